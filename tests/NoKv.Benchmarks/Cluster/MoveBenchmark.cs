using System.Diagnostics;
using System.Globalization;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Client.Admin;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `move` subcommand (issue 11's "throughput and p99 by second ... during a move of a loaded shard"): 4 local
/// silos, one shard on stores 1-3 and store 4 empty, the balancer off (nothing else moves), the shard loaded, then
/// closed-loop clients (half gets, half puts of 1 KiB on the loaded keys) for a steady stretch, a move of the shard's
/// leader replica to store 4 through the controller (learner, catch-up by snapshot, promotion, leadership handed over,
/// removal: the hardest replica to move), and the same load after it. Prints the same per-second table and targets as
/// `split`.
/// </summary>
public static class MoveBenchmark
{
    public static Task<int> RunAsync(bool quick, CancellationToken cancellationToken) =>
        OperationUnderLoad.RunAsync("move", "4 silos (one shard on stores 1-3, store 4 empty, balancer off)", stores: 4,
        [
            "--Controller:LeaderBalance", "false",
            "--Controller:ReplicaBalance", "false",
            "--Controller:AutoSplit", "false",
            "--Controller:AutoMerge", "false",
        ], quick, PrepareAsync, cancellationToken);

    /// <summary>Finds the shard's leader before the clients start; the operation moves that replica to store 4 and waits for the end.</summary>
    private static async Task<PreparedOperation> PrepareAsync(INoKvAdmin admin, CancellationToken cancellationToken)
    {
        var shard = new ShardId(1);
        var from = await LeaderOfAsync(admin, shard, cancellationToken).ConfigureAwait(false);
        var to = new StoreId(4);
        return new PreparedOperation(string.Create(CultureInfo.InvariantCulture, $", leader replica store {from} -> {to}"), async ct =>
        {
            long operation = await admin.MoveReplicaAsync(shard, from, to, ct).ConfigureAwait(false);
            await WaitMovedAsync(admin, shard, from, to, ct).ConfigureAwait(false);
            return string.Create(CultureInfo.InvariantCulture, $"operation {operation}: shard {shard}'s leader replica from store {from} to store {to}");
        });
    }

    /// <summary>
    /// Waits until the move finished: the map lists the shard on <paramref name="to"/> and no longer on
    /// <paramref name="from"/>, and the controller runs no operation (the request only starts the move).
    /// </summary>
    private static async Task WaitMovedAsync(INoKvAdmin admin, ShardId shard, StoreId from, StoreId to, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            if (status.Map.TryGetShard(shard) is { } moved && moved.HasReplicaOn(to) && !moved.HasReplicaOn(from)
                && status.Controller is { Operations.Length: 0 })
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new TimeoutException($"the move of shard {shard} from store {from} to store {to} did not finish within 120 s");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<StoreId> LeaderOfAsync(INoKvAdmin admin, ShardId shard, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            if (status.Replicas.FirstOrDefault(r => r.Replica.Shard == shard && r.Status is { Role: ReplicaRole.Leader }) is { } leader)
            {
                return leader.Replica.Store;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"shard {shard} reported no leader within 30 s");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
