using NoKv.Storage.Vfs;

namespace NoKv.Storage;

/// <summary>
/// Settings of one <see cref="Database"/>. Validated at <see cref="Database.Open"/>: a bad value throws an
/// <see cref="ArgumentException"/> naming the option, and nothing is created on disk.
/// </summary>
public sealed class StorageOptions
{
    /// <summary>All file access goes through this (tests substitute in-memory or fault-injecting ones).</summary>
    public IFileSystem FileSystem { get; init; } = PhysicalFileSystem.Instance;

    /// <summary>
    /// Size at which the mutable memtable is frozen and queued for flush. Larger means fewer, bigger L0 files
    /// and more memory; the WAL replayed at open is at most this times (1 + MaxImmutableMemtables).
    /// </summary>
    public long MemtableSizeBytes { get; init; } = 64 << 20;

    /// <summary>Frozen memtables waiting for flush before writers stall.</summary>
    public int MaxImmutableMemtables { get; init; } = 2;

    /// <summary>Memory bound of the block cache (uncompressed data, index and filter blocks). 0 disables it.</summary>
    public long BlockCacheBytes { get; init; } = 64 << 20;

    /// <summary>
    /// Upper bound on the engine's main memory consumers together: write buffers (memtable plus immutable
    /// memtables), block cache, and the index and filter blocks of open tables. 0 (the default) sets no overall
    /// bound. When set, write buffers get at most a quarter, the block cache at most 60% and table metadata at most
    /// 15%; <see cref="MemtableSizeBytes"/> and <see cref="BlockCacheBytes"/> still cap their parts. The engine
    /// reports what it chose in <see cref="StorageStatistics"/> (see docs/storage-memory.md).
    /// </summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>Bound on open table readers (file handles with their index and filter).</summary>
    public int MaxOpenTables { get; init; } = 1000;

    /// <summary>Bloom filter bits per key; 10 gives about 1% false positives. 0 disables filters.</summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>Target uncompressed size of a data block.</summary>
    public int BlockSizeBytes { get; init; } = 4096;

    /// <summary>
    /// Codec for data blocks of tables written to each level: entry i applies to level i, the last entry to every
    /// deeper level. Null or empty means no compression anywhere. The usual shape is none or LZ4 near the top
    /// (written often, read hot) and Zstandard at the bottom (most of the data, rewritten least). Changing it
    /// affects only tables written from then on; every table stays readable whatever it was written with.
    /// </summary>
    public IReadOnlyList<Sstable.CompressionType>? CompressionPerLevel { get; init; }

    /// <summary>Zstandard level (1-19) for levels that use it.</summary>
    public int ZstdLevel { get; init; } = 3;

    /// <summary>Keys between restart points inside a block (prefix compression restarts here).</summary>
    public int BlockRestartInterval { get; init; } = 16;

    /// <summary>Compaction output is split into files of about this size.</summary>
    public long TargetFileSizeBytes { get; init; } = 64 << 20;

    /// <summary>Number of L0 files that triggers an L0 -> L1 compaction.</summary>
    public int Level0CompactionTrigger { get; init; } = 4;

    /// <summary>
    /// Number of L0 files at which each write group is delayed (recorded as stall time): by its bytes at 16 MiB/s, a
    /// rate falling linearly to 1 MiB/s one file short of <see cref="Level0StopTrigger"/>, and at least 1 ms.
    /// </summary>
    public int Level0SlowdownTrigger { get; init; } = 20;

    /// <summary>Number of L0 files at which writers wait for compaction (recorded as stall time).</summary>
    public int Level0StopTrigger { get; init; } = 36;

    /// <summary>Target size of L1; level n targets MaxBytesForLevelBase * LevelSizeMultiplier^(n-1).</summary>
    public long MaxBytesForLevelBase { get; init; } = 256 << 20;

    public int LevelSizeMultiplier { get; init; } = 10;

    /// <summary>
    /// When level 0 and an oversized level 1 are both due, compact the one that moves more bytes down per byte it
    /// writes, rather than the one with the higher score, until level 0 is one file short of
    /// <see cref="Level0SlowdownTrigger"/>. On by default: in a random bulk load it keeps level 1 from growing to
    /// several times its target, which every level-0 merge then rewrites (docs/storage-compaction.md, "Level 0
    /// against an oversized level 1"). Off: the higher score always wins.
    /// </summary>
    public bool CostAwareCompactionPicking { get; init; } = true;

    /// <summary>
    /// Up to this many threads merge one compaction, each a disjoint key range of it cut at the next level's table
    /// boundaries (subcompactions); 1 (the default) merges on the compaction thread alone. The ranges' outputs are
    /// installed by one manifest edit, as a single merge's are. Helps when compaction is behind and a core is idle;
    /// on a machine whose cores the writers already keep busy it only adds contention (docs/storage-compaction.md).
    /// </summary>
    public int MaxSubcompactions { get; init; } = 1;

    /// <summary>Number of levels, L0 included.</summary>
    public int NumLevels { get; init; } = 7;

    /// <summary>
    /// Compact a table once reads that had to consult it and another table have cost about as much as
    /// compacting it would (read-triggered compaction, see docs/storage-compaction.md). A tree that stops
    /// receiving writes otherwise keeps whatever read-costly shape the last write left (level-0 files under
    /// <see cref="Level0CompactionTrigger"/>, a level just under its size target). Runs only when no
    /// size-triggered compaction is due and no memtable waits for its flush. Costs disk writes in exchange
    /// for cheaper reads; turn it off for write-dominated workloads that rarely read.
    /// </summary>
    public bool ReadTriggeredCompaction { get; init; } = true;

    /// <summary>
    /// A table's read-compaction budget is its size divided by this, in charged seeks (at least
    /// <see cref="ReadCompactionMinSeeks"/>). Smaller = compact sooner. 16 KiB: a 64 MiB table absorbs 4,096
    /// sampled multi-table reads.
    /// </summary>
    public long ReadCompactionBytesPerSeek { get; init; } = 16 << 10;

    /// <summary>Lower bound of every table's read-compaction budget, so small tables are not compacted on a few reads.</summary>
    public int ReadCompactionMinSeeks { get; init; } = 100;

    /// <summary>Mean number of bytes an iterator reads (a seek counts one block per table) between two read samples.</summary>
    public long ReadSamplePeriodBytes { get; init; } = 1 << 20;

    /// <summary>Verify block checksums on every read (not only at open and during compaction).</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// Read table data blocks through read-only memory mappings of the table files (zero copy, no allocation,
    /// no block cache for data blocks: the OS page cache holds them, and <see cref="BlockCacheBytes"/> then
    /// bounds only what unmapped reads cache). Every block's checksum is still verified on every read when
    /// <see cref="VerifyChecksums"/> is on. Trade-off: an I/O error while the kernel pages mapped data in
    /// ends the process (SIGBUS) instead of raising an exception, and mapped pages count as the process's
    /// (shared, reclaimable) memory. On by default for 64-bit processes on Unix; off on Windows, where a
    /// mapped file cannot be deleted while a reader still holds it. File systems that cannot map (the
    /// fault-injecting one) always use positional reads.
    /// </summary>
    public bool UseMappedReads { get; init; } = Environment.Is64BitProcess && !OperatingSystem.IsWindows();

    /// <summary>
    /// Values of at least this many bytes are kept out of the tables, in append-only value files, and the tables hold
    /// a small pointer instead (a value log in the style of RocksDB's integrated BlobDB; docs/storage-value-log.md).
    /// Values move there when a memtable is flushed or a table compacted, so the WAL stays the only log on the write
    /// path. Compaction then rewrites keys and pointers instead of whole values, which cuts write amplification for
    /// large values; the price is one more read per point lookup of a separated value and scans that read values
    /// from another file. 0 (the default) keeps every value in the tables. Turning it off later leaves separated
    /// values where they are until garbage collection relocates them (into the tables then).
    /// </summary>
    public int ValueLogMinValueBytes { get; init; }

    /// <summary>Target size of the value files compaction writes (a flush writes one per memtable).</summary>
    public long ValueFileSizeBytes { get; init; } = 256L << 20;

    /// <summary>
    /// A value file whose live share of value bytes falls below this is collected: compactions relocate its live
    /// values into new files, and when no other compaction is due the tables still pointing into it are compacted
    /// for that purpose; the file is deleted once no table points into it. 0 disables relocation (a file then goes
    /// only when every value in it is dead). Higher collects sooner, at the cost of rewriting more live values.
    /// </summary>
    public double ValueLogGcLiveRatio { get; init; } = 0.5;

    /// <summary>
    /// Upper bound on the live value bytes one compaction relocates: it collects the files its tables point into
    /// lowest live share first, while their live bytes fit (always at least one), and leaves the rest to later
    /// compactions. Each collected file is deleted as soon as that compaction installs, so disk use falls in steps
    /// of about this size instead of holding every old and new copy until one huge rewrite ends (which a close
    /// abandons). Smaller steps rewrite the tables pointing into the files more often.
    /// </summary>
    public long ValueLogGcBytesPerCompaction { get; init; } = 64L << 20;

    public bool CreateIfMissing { get; init; } = true;

    /// <summary>
    /// <see cref="Database.WriteAsync"/> commits on the calling thread, fsync included, and returns a completed
    /// task, instead of handing synced batches to the writer thread. For a host that runs all its work on one
    /// thread and needs every completion to come back in an order fixed by that thread alone: the replica
    /// simulation, where a completion arriving from the writer thread sooner or later than other queued work
    /// made a seed replay differently. The calling thread blocks for the fsync, so it is not offered to servers.
    /// </summary>
    internal bool CommitAsyncWritesOnCallingThread { get; init; }

    /// <summary>
    /// Nice value (1-19) the flush and compaction threads run at on Linux; 0 (the default) leaves them at the
    /// process's priority. Background work then yields the cores to foreground writes and reads while those are
    /// busy, and takes them whole when they are idle, so a flush's burst of CPU does not show up as latency on
    /// the writes it competes with. The cost: under sustained full load background work falls behind sooner,
    /// which ends in the usual level-0 slowdown and stop triggers. Ignored on other systems. RocksDB's
    /// LowerThreadPoolCPUPriority does the same.
    /// </summary>
    public int BackgroundThreadNice { get; init; }

    /// <summary>
    /// While a table file is written (flush or compaction output), the OS is asked to start writing it out every
    /// this many bytes (sync_file_range on Linux), instead of holding the whole file dirty in the page cache until
    /// the final sync. That sync otherwise puts tens of MiB in front of the device at once, and every WAL sync
    /// issued meanwhile waits behind it. 0 (the default) syncs only at the end. This is RocksDB's bytes_per_sync.
    /// </summary>
    public long TableBytesPerSync { get; init; }

    /// <summary>
    /// Upper bound on the bytes per second that flushes and compactions together write to table files; 0 (the
    /// default) leaves them unbounded. A bound turns their output into a steady stream the device serves between
    /// foreground WAL syncs instead of a burst those syncs queue behind (RocksDB's rate_limiter). Set it well
    /// above the sustained write rate times the write amplification. The bound is lifted while background work is
    /// behind (level 0 a quarter of the way from <see cref="Level0CompactionTrigger"/> to
    /// <see cref="Level0SlowdownTrigger"/>, or every immutable memtable slot taken): pacing then would only turn into
    /// write stalls (docs/storage-compaction.md, "Pacing yields to compaction debt").
    /// </summary>
    public long BackgroundWriteBytesPerSecond { get; init; }

    /// <summary>
    /// A log made obsolete by a flush is deleted by truncating it this many bytes at a time, 10 ms apart, on the
    /// flush thread, before its name is removed; 0 (the default) deletes it at once. On a file system mounted
    /// with online discard, freeing a whole memtable's log at once stalls the device while every foreground
    /// write waits on a WAL sync (see <see cref="Vfs.IFileSystem.DeleteFileGradually"/> for the measurement).
    /// The flush thread spends about (log size / step) × 10 ms more per flush.
    /// </summary>
    public long LogDeleteStepBytes { get; init; }

    /// <summary>
    /// What to do when a write-ahead log does not end cleanly at open. <see cref="WalRecoveryMode.PointInTime"/>
    /// (the default) drops a damaged tail that nothing proves was synced, so a database that lost power always
    /// reopens with every synced write; <see cref="WalRecoveryMode.AbsoluteConsistency"/> fails the open on any
    /// damage. Damage proven to lie in synced data fails the open in both modes.
    /// </summary>
    public WalRecoveryMode WalRecoveryMode { get; init; } = WalRecoveryMode.PointInTime;

    /// <summary>
    /// Receives one line of text per notable event the engine handles on its own (today: log data dropped by
    /// WAL recovery at open, with its byte count, file and offset). Called on the thread that caused it; must not
    /// throw or call back into the database. Null (the default) discards the lines;
    /// <see cref="StorageStatistics.WalRecovery"/> holds the same facts.
    /// </summary>
    public Action<string>? InfoLog { get; init; }

    /// <summary>Tag ("db" = this value) added to every System.Diagnostics.Metrics instrument of this database.</summary>
    public string? MetricsName { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    internal void Validate()
    {
        if (FileSystem is null)
        {
            throw new ArgumentException("StorageOptions.FileSystem must not be null.", nameof(FileSystem));
        }

        Require(MemtableSizeBytes >= 1024 && MemtableSizeBytes <= (1L << 30), nameof(MemtableSizeBytes), "between 1 KiB and 1 GiB");
        Require(MaxImmutableMemtables >= 1 && MaxImmutableMemtables <= 64, nameof(MaxImmutableMemtables), "between 1 and 64");
        Require(BlockCacheBytes >= 0, nameof(BlockCacheBytes), "non-negative");
        Require(MemoryBudgetBytes == 0 || MemoryBudgetBytes >= (1L << 20), nameof(MemoryBudgetBytes), "0 (no budget) or at least 1 MiB");
        Require(MaxOpenTables >= 8, nameof(MaxOpenTables), "at least 8");
        Require(BloomBitsPerKey >= 0 && BloomBitsPerKey <= 64, nameof(BloomBitsPerKey), "between 0 and 64");
        Require(BlockSizeBytes >= 64 && BlockSizeBytes <= (64 << 20), nameof(BlockSizeBytes), "between 64 bytes and 64 MiB");
        Require(BlockRestartInterval >= 1 && BlockRestartInterval <= 1024, nameof(BlockRestartInterval), "between 1 and 1024");
        Require(TargetFileSizeBytes >= 1024, nameof(TargetFileSizeBytes), "at least 1 KiB");
        Require(Level0CompactionTrigger >= 1, nameof(Level0CompactionTrigger), "at least 1");
        Require(Level0SlowdownTrigger >= Level0CompactionTrigger, nameof(Level0SlowdownTrigger), "at least Level0CompactionTrigger");
        Require(Level0StopTrigger >= Level0SlowdownTrigger, nameof(Level0StopTrigger), "at least Level0SlowdownTrigger");
        Require(MaxBytesForLevelBase >= 1024, nameof(MaxBytesForLevelBase), "at least 1 KiB");
        Require(LevelSizeMultiplier >= 2 && LevelSizeMultiplier <= 100, nameof(LevelSizeMultiplier), "between 2 and 100");
        Require(ReadCompactionBytesPerSeek >= 1, nameof(ReadCompactionBytesPerSeek), "at least 1");
        Require(ReadCompactionMinSeeks >= 1, nameof(ReadCompactionMinSeeks), "at least 1");
        Require(ReadSamplePeriodBytes >= 1, nameof(ReadSamplePeriodBytes), "at least 1");
        Require(MaxSubcompactions >= 1 && MaxSubcompactions <= 16, nameof(MaxSubcompactions), "between 1 and 16");
        Require(NumLevels >= 2 && NumLevels <= 20, nameof(NumLevels), "between 2 and 20");
        Require(BackgroundThreadNice >= 0 && BackgroundThreadNice <= 19, nameof(BackgroundThreadNice), "between 0 and 19");
        Require(TableBytesPerSync >= 0, nameof(TableBytesPerSync), "non-negative");
        Require(LogDeleteStepBytes >= 0, nameof(LogDeleteStepBytes), "non-negative");
        Require(BackgroundWriteBytesPerSecond == 0 || BackgroundWriteBytesPerSecond >= (1 << 20), nameof(BackgroundWriteBytesPerSecond), "0 (unbounded) or at least 1 MiB/s");
        Require(ZstdLevel >= 1 && ZstdLevel <= 19, nameof(ZstdLevel), "between 1 and 19");
        Require(CompressionPerLevel is null || CompressionPerLevel.All(Enum.IsDefined), nameof(CompressionPerLevel), "a list of known codecs (None, Lz4, Zstd)");
        Require(ValueLogMinValueBytes >= 0, nameof(ValueLogMinValueBytes), "0 (off) or a positive size");
        Require(ValueFileSizeBytes >= 1024, nameof(ValueFileSizeBytes), "at least 1 KiB");
        Require(ValueLogGcLiveRatio >= 0 && ValueLogGcLiveRatio < 1, nameof(ValueLogGcLiveRatio), "at least 0 and below 1");
        Require(ValueLogGcBytesPerCompaction >= 1024, nameof(ValueLogGcBytesPerCompaction), "at least 1 KiB");
        Require(Enum.IsDefined(WalRecoveryMode), nameof(WalRecoveryMode), "PointInTime or AbsoluteConsistency");
    }

    private static void Require(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"StorageOptions.{name} must be {rule}.", name);
        }
    }
}
