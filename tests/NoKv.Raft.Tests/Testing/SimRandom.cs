namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// A seeded pseudo-random source for the simulation (xoshiro256** seeded through SplitMix64).
/// </summary>
/// <remarks>
/// Our own generator rather than <see cref="Random"/> so a seed replays the same run on every .NET
/// version and platform: <see cref="Random"/>'s seeded algorithm is an implementation detail.
/// Not thread-safe; the simulation is single-threaded by design.
/// </remarks>
public sealed class SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SimRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, maxExclusive). Precondition: maxExclusive &gt; 0.</summary>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        // Lemire's multiply-shift: unbiased enough for test scheduling and branch-free.
        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>Uniform in [minInclusive, maxInclusive].</summary>
    public long NextInRange(long minInclusive, long maxInclusive)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minInclusive, maxInclusive);
        var span = (ulong)(maxInclusive - minInclusive) + 1;
        return span == 0 ? (long)NextUInt64() : minInclusive + (long)(NextUInt64() % span);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>True with the given probability (0 never, 1 always).</summary>
    public bool Chance(double probability) => probability > 0 && (probability >= 1 || NextDouble() < probability);

    public T Pick<T>(IReadOnlyList<T> items)
    {
        ArgumentOutOfRangeException.ThrowIfZero(items.Count);
        return items[Next(items.Count)];
    }

    /// <summary>
    /// An independent generator derived from this one. Giving each concern (network, clocks, workload)
    /// its own stream keeps a change in one concern's draw count from reshuffling the others.
    /// </summary>
    public SimRandom Fork() => new(NextUInt64());

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
