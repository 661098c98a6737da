namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Throughput and latency percentiles of one (system, mix, concurrency) run, and the CPU time it cost per
/// completed operation in the server processes and in the load driver (NaN when not measurable).
/// </summary>
public sealed record ClusterRunResult(
    string System,
    string Mix,
    int Concurrency,
    long Operations,
    long Errors,
    double OpsPerSecond,
    double P50Milliseconds,
    double P99Milliseconds,
    double P999Milliseconds,
    double ServerCpuMicrosPerOp,
    double ClientCpuMicrosPerOp)
{
    public string Key => $"{Mix}/c{Concurrency}";
}
