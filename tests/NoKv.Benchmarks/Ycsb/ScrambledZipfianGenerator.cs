using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// YCSB's "zipfian" request distribution: a zipfian draw over ten billion items, hashed (FNV-1a) onto
/// [0, items). The popular items are spread over the key space instead of being the lowest key numbers, and
/// the skew does not depend on the item count. One instance per thread.
/// </summary>
public sealed class ScrambledZipfianGenerator
{
    private const long BaseItems = 10_000_000_000L;

    // zeta(10^10, 0.99): summing ten billion terms at start-up is not an option; this is its value.
    private const double BaseZeta = 26.46902820178302;

    private readonly ZipfianGenerator _zipfian = new(BaseItems, BaseZeta);
    private readonly long _items;

    public ScrambledZipfianGenerator(long items)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        _items = items;
    }

    public long Next(ref SplitMix64 random) => (long)(YcsbKeys.Fnv1a64((ulong)_zipfian.Next(ref random, BaseItems)) % (ulong)_items);
}
