namespace NoKv.Grains.Store;

/// <summary>The silo's store: its identity and where its engine lives. Validated by <see cref="NoKvStoreOptionsValidator"/>.</summary>
public sealed class NoKvStoreOptions
{
    /// <summary>This silo's store id (1 and up). Persisted in the data directory on first start; a mismatch later fails the start.</summary>
    public int StoreId { get; set; }

    /// <summary>Directory holding the engine and the store identity file. Created if missing; must be writable.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Engine memtable size; smaller keeps test silos light.</summary>
    public long MemtableSizeBytes { get; set; } = 64L << 20;

    /// <summary>Engine block cache bound.</summary>
    public long BlockCacheBytes { get; set; } = 64L << 20;
}
