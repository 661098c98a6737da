using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;
using Xunit;
using static NoKv.Replica.Tests.Operations.MoveScenario;

namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// The controller group's size: the planner grows it from three voters to five once five stores are up, shrinks it
/// back to three only when fewer than five stores remain that are not decommissioning or removed, and plans one
/// operation of the group at a time; the runner carries out a growth (a move without a source) and a shrink (a move
/// without a target, from its leadership step) to the end whatever effect the controller crashes at; and orphan
/// cleanup judges the group's replicas against its own descriptor.
/// </summary>
public sealed class ControllerGroupSizeTests
{
    private static readonly StoreId S5 = new(5), S6 = new(6);
    private static readonly ShardId User = new(1);

    [Fact]
    public void The_group_grows_one_voter_at_a_time_onto_the_least_loaded_store_once_five_are_up()
    {
        var controller = Group((1, S1), (2, S2), (3, S3));
        var stores = Stores(S1, S2, S3, S4, S5);

        // Store 4 holds a user replica, store 5 none: the new voter goes where it spreads the load.
        var map = Map(Descriptor(User, (11, S1), (12, S2), (13, S4)));
        var only = Assert.Single(OperationPlanner.Plan(map, stores, [], 8, controller: controller));
        Assert.Equal(new PlannedOperation(OperationKind.MoveReplica, SystemShards.Controller, null, S5, 0), only);

        // One operation of the group at a time: nothing more while one is in flight.
        var growing = new OperationRecord(7, OperationKind.MoveReplica, SystemShards.Controller, 3, null, S5, 40, 0, 0, []);
        Assert.Empty(OperationPlanner.Plan(map, stores, [growing], 8, controller: controller));

        // Four voters (one added): the fifth follows, on the remaining store.
        var four = Group((1, S1), (2, S2), (3, S3), (40, S5));
        Assert.Equal(S4, Assert.Single(OperationPlanner.Plan(map, stores, [], 8, controller: four)).To);

        // Five voters: done; a sixth store changes nothing.
        var five = Group((1, S1), (2, S2), (3, S3), (40, S5), (41, S4));
        Assert.Empty(OperationPlanner.Plan(map, Stores(S1, S2, S3, S4, S5, S6), [], 8, controller: five));

        // A learner left in the group (a move's, or its rollback's) holds growth back until it is gone.
        var withLearner = new ShardDescriptor(SystemShards.Controller, KeyRange.All, 1, 4, [.. controller.Peers, new PeerDescriptor(40, S5, PeerRole.Learner)]);
        Assert.Empty(OperationPlanner.Plan(map, stores, [], 8, controller: withLearner));

        // Membership unknown this round: nothing.
        Assert.Empty(OperationPlanner.Plan(map, stores, [], 8));
    }

    [Fact]
    public void Growth_needs_five_stores_up_not_down_or_decommissioning()
    {
        var controller = Group((1, S1), (2, S2), (3, S3));
        var map = Map(Descriptor(User, (11, S1), (12, S2), (13, S3)));

        Assert.Empty(OperationPlanner.Plan(map, Stores(S1, S2, S3, S4), [], 8, controller: controller));

        var oneDown = Stores(S1, S2, S3, S4, S5);
        oneDown[S5] = oneDown[S5] with { State = StoreState.Down };
        Assert.DoesNotContain(OperationPlanner.Plan(map, oneDown, [], 8, controller: controller), p => p.Shard == SystemShards.Controller);

        var draining = Stores(S1, S2, S3, S4, S5);
        draining[S4] = draining[S4] with { State = StoreState.Decommissioning };
        Assert.DoesNotContain(OperationPlanner.Plan(map, draining, [], 8, controller: controller), p => p.Shard == SystemShards.Controller);
    }

    [Fact]
    public void A_store_merely_down_is_re_replicated_or_waited_for_never_shrunk_away()
    {
        var five = Group((1, S1), (2, S2), (3, S3), (4, S4), (5, S5));
        var map = Map(Descriptor(User, (11, S1), (12, S2), (13, S3)));

        // Five stores, one down: no store can take its voter, and four of five still form a quorum: nothing.
        var stores = Stores(S1, S2, S3, S4, S5);
        stores[S4] = stores[S4] with { State = StoreState.Down };
        Assert.DoesNotContain(OperationPlanner.Plan(map, stores, [], 8, controller: five), p => p.Shard == SystemShards.Controller);

        // A sixth store up: the voter is re-replicated there.
        stores[S6] = new StoreRecord(S6, StoreState.Up, 0, 0, 0, "");
        var repair = Assert.Single(OperationPlanner.Plan(map, stores, [], 8, controller: five), p => p.Shard == SystemShards.Controller);
        Assert.Equal(new PlannedOperation(OperationKind.ReReplicate, SystemShards.Controller, S4, S6, 4), repair);

        // Three voters with one down and no spare store: never below three, it waits.
        var three = Group((1, S1), (2, S2), (3, S3));
        var small = Stores(S1, S2, S3);
        small[S2] = small[S2] with { State = StoreState.Down };
        Assert.DoesNotContain(OperationPlanner.Plan(map, small, [], 8, controller: three), p => p.Shard == SystemShards.Controller);
    }

    [Fact]
    public void The_group_shrinks_to_three_only_when_fewer_than_five_stores_remain_for_good()
    {
        var five = Group((1, S1), (2, S2), (3, S3), (4, S4), (5, S5));
        var map = Map(Descriptor(User, (11, S1), (12, S2), (13, S3)));

        // Store 5 removed: four remain, so one voter goes, store 5's first (it only weighs on the quorum), as a
        // re-replication (nothing waits to destroy a replica on a store that is gone).
        var stores = Stores(S1, S2, S3, S4, S5);
        stores[S5] = stores[S5] with { State = StoreState.Removed };
        var first = Assert.Single(OperationPlanner.Plan(map, stores, [], 8, controller: five), p => p.Shard == SystemShards.Controller);
        Assert.Equal(new PlannedOperation(OperationKind.ReReplicate, SystemShards.Controller, S5, null, 5), first);

        // With a sixth store up, five remain: store 5's voter is re-replicated there instead.
        var withSixth = new Dictionary<StoreId, StoreRecord>(stores) { [S6] = new StoreRecord(S6, StoreState.Up, 0, 0, 0, "") };
        Assert.Equal(new PlannedOperation(OperationKind.ReReplicate, SystemShards.Controller, S5, S6, 5), Assert.Single(OperationPlanner.Plan(map, withSixth, [], 8, controller: five), p => p.Shard == SystemShards.Controller));

        // Four voters on live stores: the next goes from the store holding the most user replicas, the preferred
        // leader (the first voter, store 1) last even though it holds as many.
        var four = Group((1, S1), (2, S2), (3, S3), (4, S4));
        var second = Assert.Single(OperationPlanner.Plan(map, stores, [], 8, controller: four), p => p.Shard == SystemShards.Controller);
        Assert.Equal(S3, second.From);
        Assert.Null(second.To);

        // Three: never fewer.
        Assert.DoesNotContain(OperationPlanner.Plan(map, stores, [], 8, controller: Group((1, S1), (2, S2), (4, S4))), p => p.Shard == SystemShards.Controller);

        // A down voter among four remaining stores (one decommissioning): the down one goes first, as a re-replication
        // (nothing waits for its destruction), then the decommissioning one.
        var mixed = Stores(S1, S2, S3, S4, S5);
        mixed[S2] = mixed[S2] with { State = StoreState.Down };
        mixed[S5] = mixed[S5] with { State = StoreState.Decommissioning };
        Assert.Equal(new PlannedOperation(OperationKind.ReReplicate, SystemShards.Controller, S2, null, 2), Assert.Single(OperationPlanner.Plan(map, mixed, [], 8, controller: five), p => p.Shard == SystemShards.Controller));
        var noDown = Group((1, S1), (3, S3), (4, S4), (5, S5));
        Assert.Equal(S5, Assert.Single(OperationPlanner.Plan(map, mixed, [], 8, controller: noDown), p => p.Shard == SystemShards.Controller).From);

        // Five remaining stores with one decommissioning voter: a move to the sixth, not a shrink.
        var six = Stores(S1, S2, S3, S4, S5, S6);
        six[S5] = six[S5] with { State = StoreState.Decommissioning };
        Assert.Equal(new PlannedOperation(OperationKind.MoveReplica, SystemShards.Controller, S5, S6, 5), Assert.Single(OperationPlanner.Plan(map, six, [], 8, controller: five), p => p.Shard == SystemShards.Controller));
    }

    [Fact]
    public async Task Growth_completes_whatever_effect_the_controller_crashes_at()
    {
        var (clean, cleanRows) = World(3);
        await StartGrowthAsync(cleanRows);
        await RunToEndAsync(clean, cleanRows);
        AssertGrown(clean, cleanRows, "clean run");
        int effects = clean.Effects;
        Assert.True(effects >= 6, $"a clean growth has {effects} effects");

        for (int crashAt = 2; crashAt <= effects; crashAt++)
        {
            foreach (bool before in new[] { true, false })
            {
                var (world, rows) = World(3);
                await StartGrowthAsync(rows);
                world.CrashAt = crashAt;
                world.CrashBefore = before;
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunToEndAsync(world, rows));
                world.Restart();
                await RunToEndAsync(world, rows);
                AssertGrown(world, rows, $"crash {world.LastCrash} (effect {crashAt})");
            }
        }
    }

    [Fact]
    public async Task A_shrink_hands_leadership_away_removes_the_voter_and_destroys_it_whatever_effect_the_controller_crashes_at()
    {
        var (clean, cleanRows) = World(4);
        await StartShrinkAsync(cleanRows);
        await RunToEndAsync(clean, cleanRows);
        AssertShrunk(clean, cleanRows, "clean run");
        int effects = clean.Effects;
        Assert.True(effects >= 5, $"a clean shrink has {effects} effects");

        for (int crashAt = 2; crashAt <= effects; crashAt++)
        {
            foreach (bool before in new[] { true, false })
            {
                var (world, rows) = World(4);
                await StartShrinkAsync(rows);
                world.CrashAt = crashAt;
                world.CrashBefore = before;
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunToEndAsync(world, rows));
                world.Restart();
                await RunToEndAsync(world, rows);
                AssertShrunk(world, rows, $"crash {world.LastCrash} (effect {crashAt})");
            }
        }
    }

    [Fact]
    public void A_controller_peer_the_group_removed_is_an_orphan_judged_by_the_groups_own_descriptor()
    {
        var group = Group(6, (2, S2), (3, S3), (4, S4));
        var map = Map(Descriptor(User, (11, S1), (12, S2), (13, S3)));
        var stores = Stores(S1, S2, S3, S4);

        // Store 1 returns holding peer 1 at membership version 2; the group is at 6 without it.
        var held = new Dictionary<StoreId, HeldReplica[]> { [S1] = [new HeldReplica(SystemShards.Controller, 1, 2, true)] };
        Assert.Equal(new OrphanReplica(S1, SystemShards.Controller, 1, 2, 6), Assert.Single(OrphanCollector.Find(map, stores, [], held, 8, group)));

        // Without the group's descriptor (not read this round), or with an operation of the group in flight: left alone.
        Assert.Empty(OrphanCollector.Find(map, stores, [], held, 8));
        var op = new OperationRecord(7, OperationKind.MoveReplica, SystemShards.Controller, 1, null, S1, 9, 0, 0, []);
        Assert.Empty(OrphanCollector.Find(map, stores, [op], held, 8, group));

        // Members, even lagging ones, and replicas that know a newer membership than the descriptor read are kept.
        var members = new Dictionary<StoreId, HeldReplica[]>
        {
            [S2] = [new HeldReplica(SystemShards.Controller, 2, 3, true)],
            [S3] = [new HeldReplica(SystemShards.Controller, 3, 6, true)],
            [S1] = [new HeldReplica(SystemShards.Controller, 1, 7, true)],
        };
        Assert.Empty(OrphanCollector.Find(map, stores, [], members, 8, group));

        // Equal versions: only a replica that is no member of its own descriptor (a rolled-back growth's target).
        Assert.Empty(OrphanCollector.Find(map, stores, [], new Dictionary<StoreId, HeldReplica[]> { [S1] = [new HeldReplica(SystemShards.Controller, 9, 6, true)] }, 8, group));
        Assert.Single(OrphanCollector.Find(map, stores, [], new Dictionary<StoreId, HeldReplica[]> { [S1] = [new HeldReplica(SystemShards.Controller, 9, 6, false)] }, 8, group));
    }

    [Fact]
    public async Task Against_the_model_group_a_returning_store_loses_exactly_its_removed_controller_peer()
    {
        // The group re-replicated store 1's voter to store 4 while store 1 was down; store 1 returns.
        var (world, rows) = World(3, SystemShards.Controller);
        world.Kill(S1);
        await rows.SwapOperationAsync(OperationId, null, new OperationRecord(OperationId, OperationKind.ReReplicate, SystemShards.Controller, 0, S1, S4, 0, world.WallClockMs, world.WallClockMs, ReplicaMoveRunner.SourcePeerArgument(11)), default);
        var runner = new ReplicaMoveRunner(rows, world, Options, new ControllerMembership(1, [S1, S2, S3]));
        for (int round = 0; round < 500 && rows.Operations.Count > 0; round++)
        {
            await runner.RunAsync(OperationId);
            world.WallClockMs += 100;
        }

        Assert.Empty(rows.Operations);
        Assert.Equal([S2, S3, S4], world.Descriptor.Replicas.Order().ToArray());
        Assert.True(world.HasReplica(S1), "the dead store keeps its replica while down");
        world.Down.Remove(S1);

        var held = new[] { S1, S2, S3, S4 }.ToDictionary(s => s, world.Held);
        var orphans = OrphanCollector.Find(Map(Descriptor(User, (21, S2), (22, S3), (23, S4))), Stores(S1, S2, S3, S4), [], held, 8, world.Descriptor);

        var orphan = Assert.Single(orphans);
        Assert.Equal((S1, 11UL), (orphan.Store, orphan.PeerId));
        await world.DestroyOrphanAsync(orphan, default);
        Assert.False(world.HasReplica(S1));
        Assert.Empty(world.Violations);
        Assert.All(world.Descriptor.Peers, p => Assert.True(world.HasReplica(p.Store)));
    }

    private static async Task StartGrowthAsync(InMemoryOperationRows rows)
    {
        var op = new OperationRecord(OperationId, OperationKind.MoveReplica, Shard, (int)MoveStep.AllocatePeer, null, S4, 0, 1_700_000_000_000, 1_700_000_000_000, []);
        await rows.SwapOperationAsync(OperationId, null, op, default);
    }

    private static async Task StartShrinkAsync(InMemoryOperationRows rows)
    {
        // Store 1's voter leads: the shrink hands leadership away first.
        var op = new OperationRecord(OperationId, OperationKind.MoveReplica, Shard, (int)MoveStep.TransferLeader, S1, null, 0, 1_700_000_000_000, 1_700_000_000_000, ReplicaMoveRunner.SourcePeerArgument(11));
        await rows.SwapOperationAsync(OperationId, null, op, default);
    }

    private static void AssertGrown(FakeShardGroup world, InMemoryOperationRows rows, string context)
    {
        Assert.True(world.Violations.Count == 0, $"{context}: {string.Join("; ", world.Violations)}");
        Assert.True(rows.Operations.Count == 0, $"{context}: operation row left");
        Assert.Equal([S1, S2, S3, S4], world.Descriptor.Replicas.Order().ToArray());
        Assert.DoesNotContain(world.Descriptor.Peers, p => p.Role == PeerRole.Learner);
        Assert.True(world.HasReplica(S1), $"{context}: growth destroyed a replica");
        var mapped = rows.Map.Shards.Single(s => s.Id == Shard);
        Assert.True(mapped.ConfVersion == world.Descriptor.ConfVersion && mapped.Peers.SequenceEqual(world.Descriptor.Peers), $"{context}: map {mapped} vs committed {world.Descriptor}");
    }

    private static void AssertShrunk(FakeShardGroup world, InMemoryOperationRows rows, string context)
    {
        Assert.True(world.Violations.Count == 0, $"{context}: {string.Join("; ", world.Violations)}");
        Assert.True(rows.Operations.Count == 0, $"{context}: operation row left");
        Assert.Equal([S2, S3, S4], world.Descriptor.Replicas.Order().ToArray());
        Assert.NotEqual(S1, world.Leader);
        Assert.False(world.HasReplica(S1), $"{context}: the removed voter was not destroyed");
        Assert.Equal(11UL, world.Tombstone(S1));
        var mapped = rows.Map.Shards.Single(s => s.Id == Shard);
        Assert.True(mapped.ConfVersion == world.Descriptor.ConfVersion && mapped.Peers.SequenceEqual(world.Descriptor.Peers), $"{context}: map {mapped} vs committed {world.Descriptor}");
    }

    /// <summary>A group of <paramref name="voters"/> voters (peers 11, 12, ... on stores 1, 2, ...) led by store 1, with its rows.</summary>
    private static (FakeShardGroup World, InMemoryOperationRows Rows) World(int voters, ShardId? id = null)
    {
        var peers = Enumerable.Range(1, voters).Select(i => new PeerDescriptor((ulong)(10 + i), new StoreId(i), PeerRole.Voter)).ToArray();
        var shard = new ShardDescriptor(id ?? Shard, KeyRange.All, 1, 1, peers);
        var world = new FakeShardGroup(shard, S1);
        var mapShard = id == SystemShards.Controller ? new ShardDescriptor(User, KeyRange.All, 1, 1, [new PeerDescriptor(21, S2, PeerRole.Voter)]) : shard;
        return (world, new InMemoryOperationRows(world, new ControllerMap(1, 2, 100, OperationId + 1, [mapShard])));
    }

    private static ShardDescriptor Group(params (ulong Peer, StoreId Store)[] peers) => Group(1, peers);

    private static ShardDescriptor Group(long confVersion, params (ulong Peer, StoreId Store)[] peers) =>
        new(SystemShards.Controller, KeyRange.All, 1, confVersion, peers.Select(p => new PeerDescriptor(p.Peer, p.Store, PeerRole.Voter)).ToArray());

    private static ShardDescriptor Descriptor(ShardId id, params (ulong Peer, StoreId Store)[] peers) =>
        new(id, KeyRange.All, 1, 1, peers.Select(p => new PeerDescriptor(p.Peer, p.Store, PeerRole.Voter)).ToArray());

    private static ControllerMap Map(params ShardDescriptor[] shards) => new(1, 2, 100, 1, shards);

    private static Dictionary<StoreId, StoreRecord> Stores(params StoreId[] up) =>
        up.ToDictionary(s => s, s => new StoreRecord(s, StoreState.Up, 0, 0, 0, ""));
}
