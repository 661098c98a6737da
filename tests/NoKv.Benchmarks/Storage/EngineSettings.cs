using System.Globalization;
using System.Text.Json.Nodes;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Storage;

/// <summary>
/// The one set of engine settings every engine is configured with in a run. Each adapter maps these
/// onto its own options as closely as the engine allows and records any deviation in
/// <see cref="Engines.IBenchEngine.Notes"/>.
/// </summary>
public sealed record EngineSettings
{
    public required long MemtableBytes { get; init; }
    public required long BlockCacheBytes { get; init; }
    public required int BloomBitsPerKey { get; init; }
    public required int BlockSizeBytes { get; init; }
    public required long TargetFileSizeBytes { get; init; }
    public required long MaxBytesForLevelBase { get; init; }
    public required int Level0CompactionTrigger { get; init; }
    public required int LevelSizeMultiplier { get; init; }

    /// <summary>Block codec of every level: none, lz4 or zstd (RocksDB and NoKV; ZoneTree's disk segments the same where it has the codec).</summary>
    public string Compression { get; init; } = "none";

    /// <summary>
    /// Values of at least this many bytes go to value files / blob files in the engines that separate them
    /// (nokv-vlog: StorageOptions.ValueLogMinValueBytes; rocksdb-blob: enable_blob_files + min_blob_size).
    /// </summary>
    public int SeparatedValueMinBytes { get; init; } = 4096;

    /// <summary>Bound on flush plus compaction writes per second (0 = none): NoKv's BackgroundWriteBytesPerSecond, RocksDB's rate limiter.</summary>
    public long BackgroundWriteBytesPerSecond { get; init; }

    /// <summary>Table files handed to the device every this many bytes while written (0 = at the end): TableBytesPerSync, bytes_per_sync.</summary>
    public long TableBytesPerSync { get; init; }

    /// <summary>Full run: memtable and file sizes a quarter of RocksDB's defaults, so that 1M keys (~116 MB) go through several flushes and L0-&gt;L1 compactions.</summary>
    public static EngineSettings Full { get; } = new()
    {
        MemtableBytes = 16L << 20,
        BlockCacheBytes = 32L << 20,
        BloomBitsPerKey = 10,
        BlockSizeBytes = 4096,
        TargetFileSizeBytes = 16L << 20,
        MaxBytesForLevelBase = 64L << 20,
        Level0CompactionTrigger = 4,
        LevelSizeMultiplier = 10,
    };

    /// <summary>Quick run: the same shape scaled down with the key counts, so flush and compaction paths still run.</summary>
    public static EngineSettings Quick { get; } = new()
    {
        MemtableBytes = 4L << 20,
        BlockCacheBytes = 8L << 20,
        BloomBitsPerKey = 10,
        BlockSizeBytes = 4096,
        TargetFileSizeBytes = 4L << 20,
        MaxBytesForLevelBase = 16L << 20,
        Level0CompactionTrigger = 4,
        LevelSizeMultiplier = 10,
    };

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"memtable/write-buffer {Units.Bytes(MemtableBytes)}, block cache {Units.Bytes(BlockCacheBytes)}, bloom {BloomBitsPerKey} bits/key, " +
        $"block {Units.Bytes(BlockSizeBytes)}, target file {Units.Bytes(TargetFileSizeBytes)}, L1 {Units.Bytes(MaxBytesForLevelBase)} x{LevelSizeMultiplier}/level, " +
        $"L0 compaction trigger {Level0CompactionTrigger}, " +
        $"background writes {(BackgroundWriteBytesPerSecond > 0 ? Units.Bytes(BackgroundWriteBytesPerSecond) + "/s" : "unbounded")}, bytes per sync {(TableBytesPerSync > 0 ? Units.Bytes(TableBytesPerSync) : "off")}, compression {Compression}, value/blob files (nokv-vlog, rocksdb-blob) for values >= {Units.Bytes(SeparatedValueMinBytes)}, WAL on, per-write sync only in fillsync workloads");

    public JsonObject ToJson() => new()
    {
        ["key_bytes"] = KeyValueFormat.KeySize,
        ["value_bytes"] = KeyValueFormat.ValueSize,
        ["memtable_bytes"] = MemtableBytes,
        ["block_cache_bytes"] = BlockCacheBytes,
        ["bloom_bits_per_key"] = BloomBitsPerKey,
        ["block_size_bytes"] = BlockSizeBytes,
        ["target_file_size_bytes"] = TargetFileSizeBytes,
        ["max_bytes_for_level_base"] = MaxBytesForLevelBase,
        ["level_size_multiplier"] = LevelSizeMultiplier,
        ["level0_compaction_trigger"] = Level0CompactionTrigger,
        ["compression"] = Compression,
        ["separated_value_min_bytes"] = SeparatedValueMinBytes,
        ["wal"] = "on",
    };
}
