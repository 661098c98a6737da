using System.Text;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;
using Xunit;

namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// The merge runner against a model of two neighbouring shards' groups and the replicas' merge rules
/// (<see cref="FakeMergeWorld"/>), with the controller logic killed at every effect it has (each map and operation swap,
/// each proposal, each child replica move's effects), before and after the effect, and resumed by fresh runners: the
/// merge must complete or roll back, with no frozen source left, the map matching the groups, and never both a commit
/// and a rollback proposed.
/// </summary>
public sealed class MergeRunnerTests
{
    private static readonly StoreId S1 = new(1), S2 = new(2), S3 = new(3), S4 = new(4);
    private static readonly ShardId Left = new(1), Right = new(2);
    private static readonly byte[] Middle = Encoding.UTF8.GetBytes("m");
    private static readonly ReplicaMoveOptions Options = new() { StepTimeout = TimeSpan.FromSeconds(5), TransferTimeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public async Task A_merge_of_co_located_neighbours_prepares_waits_commits_and_cleans_up()
    {
        var (world, rows) = NewWorld(colocated: true);
        await new MergeRunner(rows, world, Options).StartAsync(Right, Left);

        await RunToEndAsync(world, rows);

        AssertMerged(world, rows, "clean run");
        Assert.Equal(2, rows.Map.Shards[0].Epoch);
    }

    [Fact]
    public async Task A_merge_completes_whatever_step_the_controller_crashes_at()
    {
        await CrashEverywhereAsync(colocated: true, minimumEffects: 6);
    }

    [Fact]
    public async Task Neighbours_on_different_stores_are_co_located_by_a_child_move_and_merged_whatever_step_the_controller_crashes_at()
    {
        var (world, rows) = NewWorld(colocated: false);
        await new MergeRunner(rows, world, Options).StartAsync(Right, Left);
        await RunToEndAsync(world, rows);
        AssertMerged(world, rows, "clean run");
        Assert.False(world[Right].HasReplica(S4), "the source's replica on the store the target does not use was not moved away");

        await CrashEverywhereAsync(colocated: false, minimumEffects: 16);
    }

    [Fact]
    public async Task A_source_replica_that_does_not_apply_the_prepare_in_time_rolls_the_merge_back_and_the_source_serves_again()
    {
        var (world, rows) = NewWorld(colocated: true);
        world[Right].Lagging.Add(S3);
        var before = rows.Map;
        var runner = new MergeRunner(rows, world, Options);
        var record = await runner.StartAsync(Right, Left);

        await RunToEndAsync(world, rows, runner);

        Assert.Empty(world.AllViolations);
        Assert.Empty(rows.Operations);
        Assert.Null(world[Right].Merging);
        Assert.False(world[Right].MergedAway);
        Assert.Equal(before.Shards.Select(d => d.ToString()), rows.Map.Shards.Select(d => d.ToString()));
        Assert.Equal(1, world[Left].Descriptor.Epoch);
        Assert.Contains("rolled back", runner.EndReason(record.Id) ?? "(not this runner)");
    }

    [Fact]
    public async Task A_merge_that_cannot_start_changes_nothing()
    {
        var (world, rows) = NewWorld(colocated: true);
        var runner = new MergeRunner(rows, world, Options);

        await Assert.ThrowsAsync<ArgumentException>(() => runner.StartAsync(Right, Right));
        await Assert.ThrowsAsync<ArgumentException>(() => runner.StartAsync(Right, new ShardId(9)));
        await Assert.ThrowsAsync<ArgumentException>(() => runner.StartAsync(SystemShards.Controller, Left));
        var first = await runner.StartAsync(Right, Left);
        await Assert.ThrowsAsync<ArgumentException>(() => runner.StartAsync(Left, Right));
        Assert.Single(rows.Operations);

        // The target is busy for everyone else too: no replica move, re-replication or balancing touches it.
        Assert.True(MergeRunner.Involves(OperationRecord.Decode(rows.Operations[first.Id]), Left));
        var stores = new[] { S1, S2, S3, S4 }.ToDictionary(s => s, s => new StoreRecord(s, s == S1 ? StoreState.Down : StoreState.Up, 0, 0, 0, ""));
        Assert.Empty(OperationPlanner.Plan(rows.Map, stores, [OperationRecord.Decode(rows.Operations[first.Id])], 8));
    }

    private static async Task CrashEverywhereAsync(bool colocated, int minimumEffects)
    {
        var (clean, cleanRows) = NewWorld(colocated);
        await new MergeRunner(cleanRows, clean, Options).StartAsync(Right, Left);
        int start = clean.Crashes.Effects;
        await RunToEndAsync(clean, cleanRows);
        int effects = clean.Crashes.Effects;
        Assert.True(effects - start >= minimumEffects, $"a clean merge has {effects - start} effects");

        for (int crashAt = start + 1; crashAt <= effects; crashAt++)
        {
            foreach (bool before in new[] { true, false })
            {
                var (world, rows) = NewWorld(colocated);
                await new MergeRunner(rows, world, Options).StartAsync(Right, Left);
                world.Crashes.CrashAt = crashAt;
                world.Crashes.CrashBefore = before;
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunToEndAsync(world, rows));
                string crash = world.Crashes.LastCrash!;
                world.Crashes.Restart();
                await RunToEndAsync(world, rows);
                AssertMerged(world, rows, $"crash {crash} (effect {crashAt})");
            }
        }
    }

    /// <summary>Left [.., m) and right [m, ..), both on stores 1-3, or the right one on 1, 2 and 4.</summary>
    private static (FakeMergeWorld World, InMemoryOperationRows Rows) NewWorld(bool colocated)
    {
        var world = new FakeMergeWorld();
        var left = new ShardDescriptor(Left, new KeyRange([], Middle), 1, 1, Peers((11, S1), (12, S2), (13, S3)));
        var right = new ShardDescriptor(Right, new KeyRange(Middle, []), 1, 1, colocated ? Peers((21, S1), (22, S2), (23, S3)) : Peers((21, S1), (22, S2), (24, S4)));
        world.Add(left, S1);
        world.Add(right, S2);
        var rows = new InMemoryOperationRows(world.Crashes, new ControllerMap(1, 3, 100, 1, [left, right]));
        return (world, rows);
    }

    private static PeerDescriptor[] Peers(params (ulong Peer, StoreId Store)[] peers) => peers.Select(p => new PeerDescriptor(p.Peer, p.Store, PeerRole.Voter)).ToArray();

    /// <summary>Runs every operation in the rows to its end with fresh runners (a new controller), advancing the clock between rounds.</summary>
    private static async Task RunToEndAsync(FakeMergeWorld world, InMemoryOperationRows rows, MergeRunner? runner = null)
    {
        var merges = runner ?? new MergeRunner(rows, world, Options);
        var moves = new ReplicaMoveRunner(rows, world, Options);
        for (int round = 0; round < 1000; round++)
        {
            var operations = await rows.ListOperationsAsync(default);
            if (operations.Count == 0)
            {
                return;
            }

            foreach (var op in operations)
            {
                _ = op.Kind == OperationKind.Merge
                    ? await merges.RunAsync(op.Id, world.Crashes.Life.Token)
                    : await moves.RunAsync(op.Id, world.Crashes.Life.Token);
            }

            world.WallClockMs += 100;
        }

        throw new Xunit.Sdk.XunitException($"the operations did not finish in 1000 rounds: {string.Join("; ", rows.Operations.Values.Select(r => OperationRecord.Decode(r).ToString()))}");
    }

    private static void AssertMerged(FakeMergeWorld world, InMemoryOperationRows rows, string context)
    {
        Assert.True(!world.AllViolations.Any(), $"{context}: {string.Join("; ", world.AllViolations)}");
        Assert.True(rows.Operations.Count == 0, $"{context}: operation row left");
        var merged = Assert.Single(rows.Map.Shards);
        Assert.Equal(Left, merged.Id);
        Assert.True(merged.Range.Start.Length == 0 && merged.Range.End.Length == 0, $"{context}: merged range {merged.Range}");
        Assert.Equal(world[Left].Descriptor.ToString(), merged.ToString());
        Assert.True(world[Right].MergedAway, $"{context}: the source was not merged away");
        foreach (var store in new[] { S1, S2, S3, S4 })
        {
            Assert.False(world[Right].HasReplica(store), $"{context}: store {store} still holds a replica of the source");
        }
    }
}
