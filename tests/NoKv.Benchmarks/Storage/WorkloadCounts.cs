namespace NoKv.Benchmarks.Storage;

/// <summary>Operation counts per workload; <see cref="Quick"/> keeps the same workloads at a size that finishes in seconds.</summary>
public sealed record WorkloadCounts
{
    public required int Keys { get; init; }
    public required int ReadMissing { get; init; }
    public required int Seeks { get; init; }
    public required int SyncWrites { get; init; }
    public required int ConcurrentSyncWriters { get; init; }
    public required int ConcurrentSyncWritesPerWriter { get; init; }

    /// <summary>Entries read after each seek in seekrandom.</summary>
    public int NextsPerSeek => 10;

    public static WorkloadCounts Full { get; } = new()
    {
        Keys = 1_000_000,
        ReadMissing = 200_000,
        Seeks = 100_000,
        SyncWrites = 10_000,
        ConcurrentSyncWriters = 32,
        ConcurrentSyncWritesPerWriter = 1_000,
    };

    public static WorkloadCounts Quick { get; } = new()
    {
        Keys = 200_000,
        ReadMissing = 40_000,
        Seeks = 20_000,
        SyncWrites = 1_000,
        ConcurrentSyncWriters = 32,
        ConcurrentSyncWritesPerWriter = 100,
    };
}
