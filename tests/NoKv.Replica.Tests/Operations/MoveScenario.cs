using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// One shard (peers 11, 12, 13 on stores 1-3, led by store 1) in the model group with its controller rows, one
/// operation recorded for it, and a runner driving that operation to its end: the setting move and orphan tests share.
/// </summary>
internal static class MoveScenario
{
    public static readonly StoreId S1 = new(1), S2 = new(2), S3 = new(3), S4 = new(4);
    public static readonly ShardId Shard = new(1);
    public const long OperationId = 7;

    public static readonly ReplicaMoveOptions Options = new() { StepTimeout = TimeSpan.FromSeconds(5), TransferTimeout = TimeSpan.FromSeconds(2) };

    public static (FakeShardGroup World, InMemoryOperationRows Rows) NewWorld()
    {
        var shard = new ShardDescriptor(Shard, KeyRange.All, 1, 1, [new PeerDescriptor(11, S1, PeerRole.Voter), new PeerDescriptor(12, S2, PeerRole.Voter), new PeerDescriptor(13, S3, PeerRole.Voter)]);
        var world = new FakeShardGroup(shard, S1);
        return (world, new InMemoryOperationRows(world, new ControllerMap(1, 2, 100, OperationId + 1, [shard])));
    }

    /// <summary>Records operation <see cref="OperationId"/> of <paramref name="kind"/> moving peer 11 (store 1's).</summary>
    public static Task StartAsync(InMemoryOperationRows rows, OperationKind kind, StoreId from, StoreId to)
    {
        var op = new OperationRecord(OperationId, kind, Shard, 0, from, to, 0, 1_700_000_000_000, 1_700_000_000_000, ReplicaMoveRunner.SourcePeerArgument(11));
        return rows.SwapOperationAsync(OperationId, null, op, default);
    }

    /// <summary>
    /// Runs the operation to its end with a fresh runner (a new controller), advancing the clock between rounds; returns
    /// what the runner reported when it turned the operation to its rollback (empty when it did not).
    /// </summary>
    public static async Task<List<string>> RunToEndAsync(FakeShardGroup world, InMemoryOperationRows rows)
    {
        var runner = new ReplicaMoveRunner(rows, world, Options);
        var rollbacks = new List<string>();
        for (int round = 0; round < 500; round++)
        {
            var progress = await runner.RunAsync(OperationId, world.Life.Token);
            if (progress.RollingBack is { } rollback)
            {
                rollbacks.Add(rollback);
            }

            if (progress.Finished)
            {
                return rollbacks;
            }

            world.WallClockMs += 100;
        }

        throw new Xunit.Sdk.XunitException("the operation did not finish in 500 rounds");
    }
}
