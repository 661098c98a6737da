namespace NoKv.Benchmarks.Common;

/// <summary>
/// A tiny deterministic pseudo-random generator (SplitMix64). The benchmark uses it instead of
/// <see cref="Random"/> so that key orders and values are identical across engines, processes and
/// .NET versions: every engine must see exactly the same operation sequence for the comparison to
/// mean anything. Mutable struct: pass by reference, one instance per thread.
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, bound) for bound &gt; 0 (multiply-shift; the bias is negligible for bound &lt; 2^32).</summary>
    public int NextInt(int bound) => (int)((Next() >> 32) * (ulong)bound >> 32);

    /// <summary>The SplitMix64 finaliser, also used to derive value seeds from (index, version).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
