using NoKv.Benchmarks.Storage;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>Record and operation counts, the time cap per run, and the engine settings of a YCSB run.</summary>
public sealed record YcsbCounts
{
    public required long Records { get; init; }

    /// <summary>Operations of workloads A-D and F.</summary>
    public required long Operations { get; init; }

    /// <summary>Operations of workload E (a scan reads up to 100 records).</summary>
    public required long ScanOperations { get; init; }

    /// <summary>A run stops here even if its operations are not done; ops/s are over what was done.</summary>
    public required TimeSpan MaxRunTime { get; init; }

    public required EngineSettings Settings { get; init; }

    public const int Threads = 2;

    /// <summary>1M records of 1,000 bytes (about 1 GB), 64 MiB memtable, 32 MiB block cache, RocksDB's default level shape.</summary>
    public static YcsbCounts Full { get; } = new()
    {
        Records = 1_000_000,
        Operations = 1_000_000,
        ScanOperations = 200_000,
        MaxRunTime = TimeSpan.FromSeconds(60),
        Settings = new EngineSettings
        {
            MemtableBytes = 64L << 20,
            BlockCacheBytes = 32L << 20,
            BloomBitsPerKey = 10,
            BlockSizeBytes = 4096,
            TargetFileSizeBytes = 64L << 20,
            MaxBytesForLevelBase = 256L << 20,
            Level0CompactionTrigger = 4,
            LevelSizeMultiplier = 10,
        },
    };

    /// <summary>50k records, everything scaled down so flushes and compactions still happen.</summary>
    public static YcsbCounts Quick { get; } = new()
    {
        Records = 50_000,
        Operations = 50_000,
        ScanOperations = 10_000,
        MaxRunTime = TimeSpan.FromSeconds(20),
        Settings = new EngineSettings
        {
            MemtableBytes = 4L << 20,
            BlockCacheBytes = 8L << 20,
            BloomBitsPerKey = 10,
            BlockSizeBytes = 4096,
            TargetFileSizeBytes = 4L << 20,
            MaxBytesForLevelBase = 16L << 20,
            Level0CompactionTrigger = 4,
            LevelSizeMultiplier = 10,
        },
    };

    public long OperationsOf(YcsbWorkload workload) =>
        workload.IsLoad ? Records : workload.Scan > 0 ? ScanOperations : Operations;
}
