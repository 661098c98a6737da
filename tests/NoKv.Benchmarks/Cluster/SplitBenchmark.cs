using NoKv.Abstractions.Sharding;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `split` subcommand (issue 11's "throughput and p99 by second during a split"): 3 local silos with one shard and
/// the balancer's automatic split off, the shard loaded, then closed-loop clients (half gets, half puts of 1 KiB on the
/// loaded keys) for a steady stretch, a split at the middle key by size through the controller, and the same load
/// after it. Prints completed operations and p99 per second with the split's start and end marked, and checks the
/// targets: no second without completed operations, and no second's p99 above 3x the steady p99.
/// </summary>
public static class SplitBenchmark
{
    public static Task<int> RunAsync(bool quick, CancellationToken cancellationToken) =>
        OperationUnderLoad.RunAsync("split", "3 silos (one shard, automatic split off)", stores: 3, ["--Controller:AutoSplit", "false"], quick,
            (admin, _) => Task.FromResult(new PreparedOperation(string.Empty, async ct =>
            {
                var outcome = await admin.SplitShardAsync(new ShardId(1), null, ct).ConfigureAwait(false);
                return $"{outcome.Left}; {outcome.Right}";
            })),
            cancellationToken);
}
