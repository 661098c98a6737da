namespace NoKv.Silo.Http.Api;

/// <summary>A store engine's figures.</summary>
public sealed record ApiEngine(
    long LiveTableBytes,
    long MemtableBytes,
    IReadOnlyList<int> LevelFiles,
    IReadOnlyList<long> LevelBytes,
    long UserBytesWritten,
    long DiskBytesWritten,
    double WriteAmplification,
    long WalSyncs,
    long Flushes,
    long Compactions,
    double StallSeconds,
    double BlockCacheHitRate);
