namespace NoKv.Storage.Cache;

/// <summary>A point-in-time reading of a <see cref="BlockCache"/>'s counters (monotonic since creation).</summary>
public readonly record struct BlockCacheStatistics(
    long Hits,
    long Misses,
    long Inserts,
    long Evictions,
    long UsageBytes,
    long CapacityBytes,
    long Entries)
{
    /// <summary>Hits / (hits + misses), or 0 before any lookup.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
