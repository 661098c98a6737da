namespace NoKv.Storage;

/// <summary>A point-in-time copy of a database's counters (the same figures feed the "NoKv.Storage" Meter).</summary>
public sealed class StorageStatistics
{
    /// <summary>Bytes of keys and values handed to the write API.</summary>
    public long UserBytesWritten { get; init; }

    /// <summary>Bytes written to the write-ahead log.</summary>
    public long WalBytesWritten { get; init; }

    /// <summary>Bytes of tables written by memtable flushes.</summary>
    public long FlushBytesWritten { get; init; }

    /// <summary>
    /// Memtable entries that flushes left out because no reader could see them: versions overwritten in the same
    /// memtable, or covered by one of its range deletions, with no open snapshot in between.
    /// </summary>
    public long FlushEntriesDropped { get; init; }

    /// <summary>Bytes of tables written by compactions.</summary>
    public long CompactionBytesWritten { get; init; }

    /// <summary>WAL + flush + compaction bytes (manifest writes are negligible and not counted).</summary>
    public long DiskBytesWritten => WalBytesWritten + FlushBytesWritten + CompactionBytesWritten;

    /// <summary>DiskBytesWritten / UserBytesWritten; 0 before the first write.</summary>
    public double WriteAmplification => UserBytesWritten == 0 ? 0 : (double)DiskBytesWritten / UserBytesWritten;

    public IReadOnlyList<LevelStatistics> Levels { get; init; } = [];

    public long LiveSstBytes { get; init; }

    /// <summary>Bytes in the mutable and immutable memtables.</summary>
    /// <summary>Value files the current version's tables point into (value log).</summary>
    public int LiveValueFiles { get; init; }

    /// <summary>Their total size in bytes, garbage included.</summary>
    public long LiveValueFileBytes { get; init; }

    /// <summary>Value bytes in those files that no table points to any more (reclaimed by value-log garbage collection).</summary>
    public long ValueFileGarbageBytes { get; init; }

    /// <summary>Value files written by flushes and compactions since open.</summary>
    public long ValueFilesCreated { get; init; }

    /// <summary>Live value bytes garbage collection read and wrote again since open.</summary>
    public long ValueBytesRelocated { get; init; }

    public long MemtableBytes { get; init; }

    /// <summary>Size at which the memtable is frozen, after <see cref="StorageOptions.MemoryBudgetBytes"/> (if set).</summary>
    public long MemtableLimitBytes { get; init; }

    /// <summary>Block cache bound in effect (0 when there is no block cache).</summary>
    public long BlockCacheCapacityBytes { get; init; }

    /// <summary>Bytes held by the block cache now.</summary>
    public long BlockCacheUsageBytes { get; init; }

    /// <summary>Index and filter bytes of the tables open in the table cache.</summary>
    public long TableCacheBytes { get; init; }

    /// <summary>Index and filter bytes of pinned tables (mostly the same tables as <see cref="TableCacheBytes"/>).</summary>
    public long PinnedTableBytes { get; init; }

    public long BlockCacheHits { get; init; }

    public long BlockCacheMisses { get; init; }

    public double BlockCacheHitRate => BlockCacheHits + BlockCacheMisses == 0 ? 0 : (double)BlockCacheHits / (BlockCacheHits + BlockCacheMisses);

    public long TableCacheHits { get; init; }

    public long TableCacheMisses { get; init; }

    public double TableCacheHitRate => TableCacheHits + TableCacheMisses == 0 ? 0 : (double)TableCacheHits / (TableCacheHits + TableCacheMisses);

    /// <summary>Total time writers spent delayed (slowdown) or waiting (stop) for flush and compaction.</summary>
    public TimeSpan StallTime { get; init; }

    /// <summary>Time the background write limiter (<see cref="StorageOptions.BackgroundWriteBytesPerSecond"/>) held flushes and compactions back.</summary>
    public TimeSpan BackgroundPacedTime { get; init; }

    /// <summary>Flush and compaction bytes the limiter let through unpaced because background work was behind.</summary>
    public long BackgroundUnpacedBytes { get; init; }

    public long FlushCount { get; init; }

    public long CompactionCount { get; init; }

    /// <summary>
    /// Key ranges merged in parallel by compactions split into subcompactions (each split compaction adds its range
    /// count; see <see cref="StorageOptions.MaxSubcompactions"/>).
    /// </summary>
    public long SubcompactionCount { get; init; }

    /// <summary>
    /// Compactions started because reads kept consulting a table and another one (trivial moves included;
    /// see <see cref="StorageOptions.ReadTriggeredCompaction"/>).
    /// </summary>
    public long ReadTriggeredCompactionCount { get; init; }

    /// <summary>
    /// Tables whose read budget ran out but that were not compacted for it: the candidate queue was full, or
    /// the compaction would have rewritten too much of the next level.
    /// </summary>
    public long ReadTriggeredCompactionsSkipped { get; init; }

    /// <summary>
    /// Times a table whose read budget ran out was put back because its compaction (its inputs and the next level's
    /// overlap) would rewrite more than its charges pay for; it is queued again once they do.
    /// </summary>
    public long ReadTriggeredCompactionsDeferred { get; init; }

    /// <summary>Seeks charged to tables' read-compaction budgets (sampled multi-table point reads and iterator samples).</summary>
    public long ReadSampledSeeks { get; init; }

    /// <summary>WAL fsyncs performed (group commit makes this much smaller than synced writes).</summary>
    public long WalSyncCount { get; init; }

    /// <summary>Write groups committed (each is one WAL append).</summary>
    public long WriteGroupCount { get; init; }

    public ulong LastSequence { get; init; }

    /// <summary>
    /// Obsolete tables (no version needs them) still on disk: queued for the purger or waiting to retry a failed
    /// deletion. Normally 0 or briefly a few; a count that stays up means deletions keep failing.
    /// </summary>
    public int PendingTableDeletions { get; init; }

    /// <summary>What replaying the write-ahead logs at open found, and how many bytes of damaged tail it dropped.</summary>
    public WalRecoveryReport WalRecovery { get; init; } = new();

    public override string ToString()
    {
        var levels = string.Join(' ', Levels.Where(l => l.FileCount > 0).Select(l => $"L{l.Level}={l.FileCount}/{l.Bytes}"));
        return $"user={UserBytesWritten} disk={DiskBytesWritten} wamp={WriteAmplification:F2} levels[{levels}] " +
               $"mem={MemtableBytes} blockcache={BlockCacheHitRate:P1} stall={StallTime.TotalMilliseconds:F0}ms " +
               $"paced={BackgroundPacedTime.TotalMilliseconds:F0}ms unpaced-bytes={BackgroundUnpacedBytes} " +
               $"flushes={FlushCount} flush-bytes={FlushBytesWritten} flush-dropped={FlushEntriesDropped} compactions={CompactionCount} subcompactions={SubcompactionCount} " +
               $"read-compactions={ReadTriggeredCompactionCount} read-seeks={ReadSampledSeeks} read-deferred={ReadTriggeredCompactionsDeferred} syncs={WalSyncCount} groups={WriteGroupCount} " +
               $"pending-deletions={PendingTableDeletions} table-meta={TableCacheBytes}/{PinnedTableBytes} blockcache-bytes={BlockCacheUsageBytes}/{BlockCacheCapacityBytes} " +
               $"value-files={LiveValueFiles}/{LiveValueFileBytes} value-garbage={ValueFileGarbageBytes} value-files-written={ValueFilesCreated} value-relocated={ValueBytesRelocated}";
    }
}
