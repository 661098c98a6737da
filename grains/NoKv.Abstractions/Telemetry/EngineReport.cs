namespace NoKv.Abstractions.Telemetry;

/// <summary>A store engine's figures (a subset of the engine's statistics) for <see cref="StoreReport"/>.</summary>
[GenerateSerializer, Immutable, Alias("nokv.EngineReport")]
public sealed class EngineReport
{
    [Id(0)] public long LiveTableBytes { get; init; }

    [Id(1)] public long MemtableBytes { get; init; }

    /// <summary>Table files per level, L0 first.</summary>
    [Id(2)] public int[] LevelFiles { get; init; } = [];

    /// <summary>Table bytes per level, L0 first.</summary>
    [Id(3)] public long[] LevelBytes { get; init; } = [];

    [Id(4)] public long UserBytesWritten { get; init; }

    [Id(5)] public long DiskBytesWritten { get; init; }

    [Id(6)] public long WalSyncs { get; init; }

    [Id(7)] public long Flushes { get; init; }

    [Id(8)] public long Compactions { get; init; }

    [Id(9)] public double StallSeconds { get; init; }

    [Id(10)] public double BlockCacheHitRate { get; init; }

    [Id(11)] public double WriteAmplification { get; init; }
}
