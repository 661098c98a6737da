namespace NoKv.Silo.Http.Api;

/// <summary>Cluster-wide figures: counts, current rates (last full second), data size.</summary>
public sealed record ApiTotals(
    int Stores,
    int StoresUp,
    int Shards,
    int ShardsWithLeader,
    double WritesPerSecond,
    double GetsPerSecond,
    double ScansPerSecond,
    double ErrorsPerSecond,
    double WriteP99Ms,
    double GetP99Ms,
    long DataBytes,
    long Requests);
