namespace NoKv.Storage.Db;

/// <summary>
/// How the engine's large memory consumers are sized: write buffers (the mutable memtable plus the immutable ones
/// waiting for flush), the block cache, and the index and filter blocks of open tables (table cache and pinned
/// tables). With <see cref="StorageOptions.MemoryBudgetBytes"/> set, the three together stay within it: each gets a
/// share and the explicit options act as further caps. Without a budget, the explicit options apply and table
/// metadata is bounded only by table counts.
/// </summary>
/// <remarks>
/// The shares follow where an LSM's memory pays: most to the block cache (reads), a quarter to write buffers (enough
/// for flushes to keep up, since a bigger memtable mainly means fewer, larger L0 files), and the rest to index and
/// filter blocks, which every read of a table needs and which RocksDB users otherwise discover as unbounded growth
/// with the number of files. Not covered: the managed heap's own slack, compaction and flush buffers (bounded by
/// block and file sizes) and iterators the caller keeps open.
/// </remarks>
internal readonly record struct MemoryBudget(long MemtableBytes, long BlockCacheBytes, long TableCacheBytes, long PinnedTableBytes)
{
    /// <summary>Share of the budget for write buffers, block cache and table metadata, in percent.</summary>
    public const int WriteBufferPercent = 25;
    public const int BlockCachePercent = 60;
    public const int TableMetadataPercent = 15;

    /// <summary>The sizes for <paramref name="options"/> (already validated). Zero table bytes means no byte bound.</summary>
    public static MemoryBudget From(StorageOptions options)
    {
        long budget = options.MemoryBudgetBytes;
        if (budget == 0)
        {
            return new MemoryBudget(options.MemtableSizeBytes, options.BlockCacheBytes, 0, 0);
        }

        long writeBuffers = budget * WriteBufferPercent / 100;
        long memtable = Math.Max(1024, Math.Min(options.MemtableSizeBytes, writeBuffers / (1 + options.MaxImmutableMemtables)));
        long blockCache = Math.Min(options.BlockCacheBytes, budget * BlockCachePercent / 100);

        // Half for tables open in the table cache, half for pinned tables: a pinned table evicted from the cache
        // stays open through its pin, so the two bounds add up to the share.
        long metadata = budget * TableMetadataPercent / 100;
        return new MemoryBudget(memtable, blockCache, Math.Max(1, metadata / 2), Math.Max(1, metadata / 2));
    }

    /// <summary>Most memory the sized consumers may hold together (write buffers counted at their full size).</summary>
    public long Total(int maxImmutableMemtables) =>
        (MemtableBytes * (1 + maxImmutableMemtables)) + BlockCacheBytes + TableCacheBytes + PinnedTableBytes;
}
