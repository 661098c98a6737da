namespace NoKv.Storage.Cache;

/// <summary>A point-in-time reading of a <see cref="TableCache"/>'s counters (monotonic since creation).</summary>
/// <param name="OpenTableBytes">Index, filter and search-aid bytes of the tables the cache holds open.</param>
public readonly record struct TableCacheStatistics(long Hits, long Misses, long Evictions, int OpenTables, int Capacity, long OpenTableBytes = 0)
{
    /// <summary>Hits / (hits + misses), or 0 before any lookup.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
