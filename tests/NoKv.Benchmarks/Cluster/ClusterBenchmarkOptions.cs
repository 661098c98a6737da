namespace NoKv.Benchmarks.Cluster;

/// <summary>The `cluster` subcommand's options (see README.md).</summary>
/// <param name="Quick">Smaller key space and 1 s per point instead of 5 s.</param>
/// <param name="JsonPath">Where to write the figures as JSON, if anywhere.</param>
/// <param name="Etcd">Also run the workload against a local 3-member etcd cluster started by etcd/*.sh.</param>
/// <param name="EtcdEndpoints">Run etcd's side against this running cluster (comma-separated client URLs) instead.</param>
/// <param name="Shards">NoKV shards the benchmark's key space is pre-split into (1-4096, at most one per preloaded key).</param>
/// <param name="KeepData">Keep the NoKV silos' temporary folder (data and logs) after the run.</param>
public sealed record ClusterBenchmarkOptions(bool Quick, string? JsonPath, bool Etcd, string? EtcdEndpoints, int Shards, bool KeepData)
{
    /// <summary>Comma-separated mix names to run (null: all). Lets a write-path A/B skip the read mixes.</summary>
    public string? Mixes { get; init; }

    /// <summary>Comma-separated concurrencies to run (null: 1, 16, 64, 256).</summary>
    public string? Concurrencies { get; init; }

    /// <summary>Log each measured point's latency per quarter second to stderr (for finding where a tail comes from).</summary>
    public bool Timeline { get; init; }

    /// <summary>
    /// Seconds of idle CPU to measure per silo once every shard serves, before the workload (0: none). The issue-11
    /// figure: a silo's CPU while its shards see no request.
    /// </summary>
    public int IdleSeconds { get; init; }

    /// <summary>
    /// `--txn` with etcd: measure NoKV's points first and etcd's after (NoKV's cluster stopped), as before the
    /// interleaving; by default both clusters stay up and the two systems' slices alternate.
    /// </summary>
    public bool Sequential { get; init; }
}
