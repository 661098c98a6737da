namespace NoKv.Silo.Http.Api;

/// <summary>One second of traffic: rates per second and latency quantiles in milliseconds.</summary>
public sealed record ApiSample(
    long UnixMs,
    double WritesPerSecond,
    double GetsPerSecond,
    double ScansPerSecond,
    double ErrorsPerSecond,
    double WriteP50Ms,
    double WriteP99Ms,
    double GetP50Ms,
    double GetP99Ms);
