namespace NoKv.Benchmarks.Cluster;

/// <summary>A read/write mix of the cluster workload: <see cref="ReadPercent"/> of operations are gets, the rest puts.</summary>
public sealed record ClusterMix(string Name, int ReadPercent)
{
    public static IReadOnlyList<ClusterMix> All { get; } =
    [
        new("write", 0),
        new("r50", 50),
        new("r95", 95),
    ];
}
