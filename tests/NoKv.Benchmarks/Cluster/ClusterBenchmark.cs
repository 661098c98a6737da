namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `cluster` subcommand: 3 local silo processes (and a local etcd cluster with --etcd) under
/// mixed workloads. Not available until the cluster layer lands; the etcd side already exists in
/// the etcd/ folder.
/// </summary>
public static class ClusterBenchmark
{
    /// <summary>Exit code 2: the benchmark exists as a command but cannot run yet.</summary>
    public static int Run()
    {
        Console.Error.WriteLine("cluster benchmark: not yet available");
        return 2;
    }
}
