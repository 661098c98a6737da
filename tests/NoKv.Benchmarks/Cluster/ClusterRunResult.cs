namespace NoKv.Benchmarks.Cluster;

/// <summary>Throughput and latency percentiles of one (system, mix, concurrency) run.</summary>
public sealed record ClusterRunResult(
    string System,
    string Mix,
    int Concurrency,
    long Operations,
    long Errors,
    double OpsPerSecond,
    double P50Milliseconds,
    double P99Milliseconds,
    double P999Milliseconds)
{
    public string Key => $"{Mix}/c{Concurrency}";
}
