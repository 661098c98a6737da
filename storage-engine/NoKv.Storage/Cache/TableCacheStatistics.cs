namespace NoKv.Storage.Cache;

/// <summary>A point-in-time reading of a <see cref="TableCache"/>'s counters (monotonic since creation).</summary>
public readonly record struct TableCacheStatistics(long Hits, long Misses, long Evictions, int OpenTables, int Capacity)
{
    /// <summary>Hits / (hits + misses), or 0 before any lookup.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
