using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;
using Xunit;
using static NoKv.Replica.Tests.Operations.MoveScenario;

namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// The replica move and re-replication runner against a model of the shard's group, with the controller logic killed
/// at every effect it has (each map and operation swap, each replica call), before and after the effect, and resumed by
/// a fresh runner: the operation must complete (or roll back) with the group, the map and the stores consistent.
/// </summary>
public sealed class ReplicaMoveRunnerTests
{
    [Fact]
    public async Task A_move_adds_a_learner_promotes_it_hands_over_leadership_and_removes_the_source()
    {
        var (world, rows) = NewWorld();
        await StartAsync(rows, OperationKind.MoveReplica, S1, S4);

        await RunToEndAsync(world, rows);

        AssertMoved(world, rows, S1, S4);
        Assert.Equal(S4, world.Leader);
    }

    [Fact]
    public async Task A_move_completes_whatever_step_the_controller_crashes_at()
    {
        var (clean, cleanRows) = NewWorld();
        await StartAsync(cleanRows, OperationKind.MoveReplica, S1, S4);
        await RunToEndAsync(clean, cleanRows);
        int effects = clean.Effects;
        Assert.True(effects >= 10, $"a clean move has {effects} effects");

        for (int crashAt = 2; crashAt <= effects; crashAt++)
        {
            foreach (bool before in new[] { true, false })
            {
                var (world, rows) = NewWorld();
                await StartAsync(rows, OperationKind.MoveReplica, S1, S4);
                world.CrashAt = crashAt; // the start above was effect 1
                world.CrashBefore = before;
                bool crashed = false;
                try
                {
                    await RunToEndAsync(world, rows);
                }
                catch (OperationCanceledException) when (world.Life.IsCancellationRequested)
                {
                    crashed = true;
                }

                Assert.True(crashed, $"no crash at effect {crashAt} ({(before ? "before" : "after")}) of {effects}: {world.Effects} effects");
                world.Restart();
                await RunToEndAsync(world, rows);
                AssertMoved(world, rows, S1, S4, $"crash {world.LastCrash} (effect {crashAt})");
            }
        }
    }

    [Fact]
    public async Task Re_replication_of_a_dead_store_skips_the_transfer_and_leaves_its_replica_to_orphan_cleanup()
    {
        var (world, rows) = NewWorld();
        world.Kill(S1);
        await StartAsync(rows, OperationKind.ReReplicate, S1, S4);

        await RunToEndAsync(world, rows);

        Assert.Empty(world.Violations);
        Assert.Empty(rows.Operations);
        Assert.Null(world.Descriptor.PeerOn(S1));
        Assert.Equal(PeerRole.Voter, world.Descriptor.PeerOn(S4)!.Value.Role);
        Assert.Equal([S2, S3, S4], world.Descriptor.Replicas.Order().ToArray());
        Assert.True(world.HasReplica(S1), "the dead store's replica cannot be destroyed while it is down");
        Assert.Equal(world.Descriptor.ConfVersion, rows.Map.Shards[0].ConfVersion);
    }

    [Fact]
    public async Task Re_replication_survives_a_crash_at_every_step()
    {
        var (clean, cleanRows) = NewWorld();
        clean.Kill(S1);
        await StartAsync(cleanRows, OperationKind.ReReplicate, S1, S4);
        await RunToEndAsync(clean, cleanRows);
        for (int crashAt = 2; crashAt <= clean.Effects; crashAt++)
        {
            var (world, rows) = NewWorld();
            world.Kill(S1);
            await StartAsync(rows, OperationKind.ReReplicate, S1, S4);
            world.CrashAt = crashAt;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunToEndAsync(world, rows));
            world.Restart();
            await RunToEndAsync(world, rows);
            Assert.Empty(world.Violations);
            Assert.Equal([S2, S3, S4], world.Descriptor.Replicas.Order().ToArray());
            Assert.DoesNotContain(world.Descriptor.Peers, p => p.Role == PeerRole.Learner);
        }
    }

    [Fact]
    public async Task A_target_that_refuses_the_replica_rolls_the_move_back_with_the_group_untouched()
    {
        var (world, rows) = NewWorld();
        world.Refusing.Add(S4);
        var before = world.Descriptor;
        await StartAsync(rows, OperationKind.MoveReplica, S1, S4);

        var rollbacks = await RunToEndAsync(world, rows);

        Assert.Empty(rows.Operations);
        Assert.Same(before, world.Descriptor);
        Assert.Empty(world.Violations);

        // The operator learns why, once: the step that gave up and the target's own words.
        var reason = Assert.Single(rollbacks);
        Assert.Contains("CreateReplica", reason);
        Assert.Contains("refusing", reason);
    }

    [Fact]
    public async Task A_target_that_dies_before_catching_up_is_removed_again_after_the_step_timeout()
    {
        var (world, rows) = NewWorld();
        await StartAsync(rows, OperationKind.MoveReplica, S1, S4);
        var runner = new ReplicaMoveRunner(rows, world, Options);

        // Run until the learner is in the group, then kill the target before it is promoted.
        for (int i = 0; i < 50 && world.Descriptor.PeerOn(S4) is null; i++)
        {
            await runner.RunAsync(OperationId);
        }

        Assert.Equal(PeerRole.Learner, world.Descriptor.PeerOn(S4)!.Value.Role);
        world.Kill(S4);
        var rollbacks = await RunToEndAsync(world, rows);

        Assert.Contains("did not catch up", Assert.Single(rollbacks));
        Assert.Empty(rows.Operations);
        Assert.Null(world.Descriptor.PeerOn(S4));
        Assert.Equal([S1, S2, S3], world.Descriptor.Replicas.Order().ToArray());
        Assert.Empty(world.Violations);
        Assert.Equal(world.Descriptor.ConfVersion, rows.Map.Shards[0].ConfVersion);
    }

    [Fact]
    public async Task A_learner_still_receiving_a_large_snapshot_is_not_rolled_back_at_the_step_timeout_but_one_that_stops_is()
    {
        // The rereplicate benchmark at 1 GiB: a learner copying a 256 MiB shard outlasted the 2-minute step timeout and
        // was rolled back mid-copy, then copied it all again. Progress, not the step's age, now decides.
        var (world, rows, runner) = await StartCopyAsync();
        Assert.Equal(PeerRole.Learner, world.Descriptor.PeerOn(S4)!.Value.Role);
        long lastProgress = await CopyAsync(world, runner, timeouts: 3);
        Assert.Equal((int)MoveStep.CatchUp, OperationRecord.Decode(Assert.Single(rows.Operations).Value).Step);
        Assert.Equal(PeerRole.Learner, world.Descriptor.PeerOn(S4)!.Value.Role);

        // The copy stops (the target hangs): rolled back once the step timeout passes without progress.
        var (rollback, rolledBackAt) = await RunUntilRollbackAsync(world, runner);
        Assert.Contains("no progress", rollback);
        AssertRolledBackOneTimeoutAfter(lastProgress, rolledBackAt);
        await RunToEndAsync(world, rows);
        Assert.Null(world.Descriptor.PeerOn(S4));
        Assert.Empty(world.Violations);
    }

    [Fact]
    public async Task A_new_controller_that_takes_over_mid_copy_gives_the_learner_a_whole_timeout_from_its_first_look()
    {
        // A runner learns of progress only by watching; a controller that fails over two minutes into a copy used to
        // time the learner from the step's recorded start and roll it back at its first look.
        var (world, rows, first) = await StartCopyAsync();
        await CopyAsync(world, first, timeouts: 2);

        // The controller fails over; the step is now two timeouts old and the copy goes on.
        var second = new ReplicaMoveRunner(rows, world, Options);
        world.SnapshotArriving[S4] += 1 << 20;
        Assert.Null((await second.RunAsync(OperationId)).RollingBack);
        long takeover = world.WallClockMs;

        // The copy stops: rolled back a step timeout after the new runner's first look, not before.
        var (_, rolledBackAt) = await RunUntilRollbackAsync(world, second);
        AssertRolledBackOneTimeoutAfter(takeover, rolledBackAt);
        await RunToEndAsync(world, rows);
        Assert.Null(world.Descriptor.PeerOn(S4));
        Assert.Empty(world.Violations);
    }

    [Fact]
    public async Task A_new_controller_still_rolls_back_at_once_a_learner_that_never_received_anything()
    {
        var (world, rows, _) = await StartCopyAsync();
        Assert.Equal((int)MoveStep.CatchUp, OperationRecord.Decode(Assert.Single(rows.Operations).Value).Step);
        world.WallClockMs += (long)Options.StepTimeout.TotalMilliseconds + 1000;
        var second = new ReplicaMoveRunner(rows, world, Options);
        Assert.Contains("no progress", (await second.RunAsync(OperationId)).RollingBack);
    }

    /// <summary>A move from S1 to S4 run until S4's learner is added, its snapshot not yet arriving.</summary>
    private static async Task<(FakeShardGroup World, InMemoryOperationRows Rows, ReplicaMoveRunner Runner)> StartCopyAsync()
    {
        var (world, rows) = NewWorld();
        await StartAsync(rows, OperationKind.MoveReplica, S1, S4);
        var runner = new ReplicaMoveRunner(rows, world, Options);
        world.SnapshotArriving[S4] = 0;
        for (int i = 0; i < 50 && world.Descriptor.PeerOn(S4) is null; i++)
        {
            await runner.RunAsync(OperationId);
        }

        return (world, rows, runner);
    }

    /// <summary>S4's snapshot arrives a megabyte a second for <paramref name="timeouts"/> step timeouts; never rolled back. Returns the last progress time.</summary>
    private static async Task<long> CopyAsync(FakeShardGroup world, ReplicaMoveRunner runner, int timeouts)
    {
        long end = world.WallClockMs + (long)(Options.StepTimeout.TotalMilliseconds * timeouts);
        long lastProgress = 0;
        while (world.WallClockMs < end)
        {
            world.SnapshotArriving[S4] += 1 << 20;
            Assert.Null((await runner.RunAsync(OperationId)).RollingBack);
            lastProgress = world.WallClockMs;
            world.WallClockMs += 1000;
        }

        return lastProgress;
    }

    private static async Task<(string Rollback, long At)> RunUntilRollbackAsync(FakeShardGroup world, ReplicaMoveRunner runner)
    {
        for (int i = 0; i < 100; i++)
        {
            world.WallClockMs += 500;
            if ((await runner.RunAsync(OperationId)).RollingBack is { } rollback)
            {
                return (rollback, world.WallClockMs);
            }
        }

        throw new Xunit.Sdk.XunitException("no rollback within 50 s of no progress");
    }

    private static void AssertRolledBackOneTimeoutAfter(long since, long rolledBackAt)
    {
        long idle = rolledBackAt - since;
        Assert.True(idle > Options.StepTimeout.TotalMilliseconds && idle <= Options.StepTimeout.TotalMilliseconds + 500, $"rolled back {idle} ms after {since}");
    }

    [Fact]
    public void The_planner_re_replicates_each_shard_of_a_down_store_onto_the_least_loaded_up_store()
    {
        var a = Descriptor(new ShardId(1), [(11, S1), (12, S2), (13, S3)], KeyRange.All);
        var map = new ControllerMap(1, 2, 100, 1, [a]);
        var stores = new Dictionary<StoreId, StoreRecord>
        {
            [S1] = new(S1, StoreState.Down, 0, 0, 0, ""),
            [S2] = new(S2, StoreState.Up, 0, 0, 0, ""),
            [S3] = new(S3, StoreState.Up, 0, 0, 0, ""),
            [S4] = new(S4, StoreState.Up, 0, 0, 0, ""),
            [new StoreId(5)] = new(new StoreId(5), StoreState.Removed, 0, 0, 0, ""),
        };

        var plan = OperationPlanner.Plan(map, stores, [], 8);

        var only = Assert.Single(plan);
        Assert.Equal(new PlannedOperation(OperationKind.ReReplicate, a.Id, S1, S4, 11), only);
        Assert.Empty(OperationPlanner.Plan(map, stores, [new OperationRecord(1, OperationKind.ReReplicate, a.Id, 0, S1, S4, 0, 0, 0, [])], 8));
    }

    [Fact]
    public void Re_replication_avoids_a_store_with_a_slow_disk_unless_it_is_the_only_target()
    {
        var a = Descriptor(new ShardId(1), [(11, S1), (12, S2), (13, S3)], KeyRange.All);
        var s5 = new StoreId(5);
        var stores = new Dictionary<StoreId, StoreRecord>
        {
            [S1] = new(S1, StoreState.Down, 0, 0, 0, ""),
            [S2] = new(S2, StoreState.Up, 0, 0, 0, ""),
            [S3] = new(S3, StoreState.Up, 0, 0, 0, ""),
            [S4] = new(S4, StoreState.Up, 0, 0, 0, ""),
            [s5] = new(s5, StoreState.Up, 0, 0, 0, ""),
        };
        var map = new ControllerMap(1, 2, 100, 1, [a]);

        // Equal counts: the lower id would win, but its disk is slow.
        Assert.Equal(S4, Assert.Single(OperationPlanner.Plan(map, stores, [], 8)).To);
        Assert.Equal(s5, Assert.Single(OperationPlanner.Plan(map, stores, [], 8, isSlow: s => s == S4)).To);

        // Both slow: the shard still gets its third replica back.
        Assert.Equal(S4, Assert.Single(OperationPlanner.Plan(map, stores, [], 8, isSlow: s => s == S4 || s == s5)).To);
    }

    [Fact]
    public void A_decommissioning_store_is_drained_then_reported_ready_for_removal()
    {
        var a = Descriptor(new ShardId(1), [(11, S1), (12, S2), (13, S3)], KeyRange.All);
        var stores = new Dictionary<StoreId, StoreRecord>
        {
            [S1] = new(S1, StoreState.Decommissioning, 0, 0, 0, ""),
            [S2] = new(S2, StoreState.Up, 0, 0, 0, ""),
            [S3] = new(S3, StoreState.Up, 0, 0, 0, ""),
            [S4] = new(S4, StoreState.Up, 0, 0, 0, ""),
        };

        var controller = Descriptor(SystemShards.Controller, [(1, S2), (2, S3), (3, S4)], KeyRange.All);
        var plan = OperationPlanner.Plan(new ControllerMap(1, 2, 100, 1, [a]), stores, [], 8, controller: controller);
        Assert.Equal(OperationKind.MoveReplica, Assert.Single(plan).Kind);
        Assert.Empty(OperationPlanner.Drained(new ControllerMap(1, 2, 100, 1, [a]), stores, [], controller));

        var moved = Descriptor(new ShardId(1), [(14, S4), (12, S2), (13, S3)], KeyRange.All);
        Assert.Equal([S1], OperationPlanner.Drained(new ControllerMap(2, 2, 100, 1, [moved]), stores, [], controller));

        // Not while the controller group's membership is unknown, nor while the store holds one of its replicas.
        Assert.Empty(OperationPlanner.Drained(new ControllerMap(2, 2, 100, 1, [moved]), stores, [], null));
        var onS1 = Descriptor(SystemShards.Controller, [(1, S1), (2, S2), (3, S3)], KeyRange.All);
        Assert.Empty(OperationPlanner.Drained(new ControllerMap(2, 2, 100, 1, [moved]), stores, [], onS1));
    }

    [Fact]
    public void A_controller_replica_on_a_dead_store_is_re_replicated_before_any_user_shard_and_one_at_a_time()
    {
        var a = Descriptor(new ShardId(1), [(11, S1), (12, S2), (13, S3)], KeyRange.All);
        var controller = Descriptor(SystemShards.Controller, [(1, S1), (2, S2), (3, S3)], KeyRange.All);
        var stores = new Dictionary<StoreId, StoreRecord>
        {
            [S1] = new(S1, StoreState.Down, 0, 0, 0, ""),
            [S2] = new(S2, StoreState.Up, 0, 0, 0, ""),
            [S3] = new(S3, StoreState.Up, 0, 0, 0, ""),
            [S4] = new(S4, StoreState.Up, 0, 0, 0, ""),
        };
        var map = new ControllerMap(1, 2, 100, 1, [a]);

        // With room for one operation, the controller's replica takes it.
        var first = Assert.Single(OperationPlanner.Plan(map, stores, [], 1, controller: controller));
        Assert.Equal(new PlannedOperation(OperationKind.ReReplicate, SystemShards.Controller, S1, S4, 1), first);

        var both = OperationPlanner.Plan(map, stores, [], 8, controller: controller);
        Assert.Equal([SystemShards.Controller, a.Id], both.Select(p => p.Shard));

        // A move of the group in progress: no second one, the user shard still goes.
        var running = new OperationRecord(7, OperationKind.ReReplicate, SystemShards.Controller, 0, S1, S4, 0, 0, 0, []);
        Assert.Equal([a.Id], OperationPlanner.Plan(map, stores, [running], 8, controller: controller).Select(p => p.Shard));

        // Unknown membership: the group is left alone this round.
        Assert.Equal([a.Id], OperationPlanner.Plan(map, stores, [], 8).Select(p => p.Shard));

        // Two dead members: one at a time.
        stores[S2] = new(S2, StoreState.Down, 0, 0, 0, "");
        var s5 = new StoreId(5);
        stores[s5] = new(s5, StoreState.Up, 0, 0, 0, "");
        Assert.Single(OperationPlanner.Plan(map, stores, [], 8, controller: controller), p => p.Shard == SystemShards.Controller);
    }

    private static ShardDescriptor Descriptor(ShardId id, (ulong Peer, StoreId Store)[] peers, KeyRange range) =>
        new(id, range, 1, 1, peers.Select(p => new PeerDescriptor(p.Peer, p.Store, PeerRole.Voter)).ToArray());

    private static void AssertMoved(FakeShardGroup world, InMemoryOperationRows rows, StoreId from, StoreId to, string context = "")
    {
        Assert.True(world.Violations.Count == 0, $"{context}: {string.Join("; ", world.Violations)}");
        Assert.True(rows.Operations.Count == 0, $"{context}: operation row left");
        var shard = world.Descriptor;
        Assert.Null(shard.PeerOn(from));
        Assert.Equal(PeerRole.Voter, shard.PeerOn(to)!.Value.Role);
        Assert.Equal(3, shard.Peers.Length);
        Assert.False(world.HasReplica(from), $"{context}: the source's replica was not destroyed");
        Assert.Equal(11UL, world.Tombstone(from));
        var mapped = rows.Map.Shards.Single(s => s.Id == shard.Id);
        Assert.True(mapped.ConfVersion == shard.ConfVersion && mapped.Peers.SequenceEqual(shard.Peers), $"{context}: map {mapped} vs committed {shard}");
    }
}
