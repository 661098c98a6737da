namespace NoKv.Silo.Http.Api;

/// <summary>One store: "up" (answered), "unreachable" (its silo is in the cluster but did not answer) or "down" (no live silo).</summary>
public sealed record ApiStore(
    int Id,
    string State,
    string? Silo,
    string? Error,
    double UptimeSeconds,
    long WorkingSetBytes,
    int Replicas,
    int Leaders,
    double WritesPerSecond,
    double GetsPerSecond,
    double WriteP99Ms,
    long Writes,
    long Gets,
    long Scans,
    long Errors,
    ApiEngine? Engine,
    IReadOnlyList<ApiSample> Series);
