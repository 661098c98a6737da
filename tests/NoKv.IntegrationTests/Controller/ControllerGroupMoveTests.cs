using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.Client.Timestamps;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>
/// The controller group's own replicas (system shard 0) move like a shard's: by an operator's move, and on their own
/// when a store holding one dies for good. Its clients on every silo follow the new membership.
/// </summary>
public sealed class ControllerGroupMoveTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HealDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_store_holding_a_controller_voter_killed_for_good_has_the_controller_and_every_shard_back_at_three_voters()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 4, shards: 2);
        for (int i = 0; i < 20; i++)
        {
            await cluster.Store.PutAsync($"key-{i:D3}", $"value-{i}");
        }

        var before = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var groupBefore = before.Controller!.GroupStores;
        Assert.Equal(3, groupBefore.Length);

        // A controller voter other than store 1 (whose silo hosts the test cluster's membership table).
        var victim = groupBefore.Where(s => s != new StoreId(1)).Max();
        var spare = cluster.Stores.Single(s => !groupBefore.Contains(s));
        output.WriteLine($"controller group on stores {string.Join(", ", groupBefore)}; killing store {victim}");
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(victim));
        var clock = Stopwatch.StartNew();
        ClusterStatus? last = null;
        ClusterStatus healed;
        try
        {
            healed = await Eventually.WaitAsync(
                async () => last = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
                s => s.Controller is { } view && view.Operations.Length == 0
                    && view.GroupStores.Length == 3 && !view.GroupStores.Contains(victim)
                    && view.Shards.All(d => d.Replicas.Length == 3 && !d.HasReplicaOn(victim) && d.Peers.All(p => p.Role == PeerRole.Voter)),
                HealDeadline,
                $"the controller group and every shard re-replicated off store {victim}");
        }
        catch (TimeoutException)
        {
            Describe(last);
            throw;
        }

        output.WriteLine($"controller group on stores {string.Join(", ", healed.Controller!.GroupStores)} and every shard at 3 voters {clock.ElapsedMilliseconds} ms after the kill (store down after 3 s)");
        Assert.Contains(spare, healed.Controller.GroupStores);

        // The group's own committed membership agrees: three voters, none on the dead store.
        var leader = await ControllerLeaderStatusAsync(cluster, healed.Controller.GroupStores);
        Assert.Equal(3, leader.Descriptor!.Peers.Count(p => p.Role == PeerRole.Voter));
        Assert.DoesNotContain(leader.Descriptor.Peers, p => p.Store == victim);

        // And the controller keeps working: timestamps, the map, writes and another operation.
        var source = cluster.Cluster.Client.ServiceProvider.GetRequiredService<ITimestampSource>();
        long first = await source.GetTimestampAsync();
        Assert.True(await source.GetTimestampAsync() > first);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"value-{i}", await cluster.Store.GetStringAsync($"key-{i:D3}"));
        }

        await cluster.Store.PutAsync("key-new", "1");
        var split = await cluster.Admin.SplitShardAsync(healed.Controller.Shards[0].Id, null);
        output.WriteLine($"split after the heal: {split.Left}; {split.Right}");
        Assert.Equal("1", await cluster.Store.GetStringAsync("key-new"));

        // The victim returns still holding the controller peer the group removed while it was away: its heartbeat lists
        // it, and orphan cleanup destroys it against the group's own descriptor. Then another voter's store dies for
        // good, and the returned store is the only one left to take its place.
        await cluster.RestartStoreAsync(victim);
        clock.Restart();
        try
        {
            await Eventually.WaitAsync(
                async () => last = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
                s => s.Controller?.Balancer?.RecentDecisions.Any(d => d.Contains("destroyed orphan", StringComparison.Ordinal) && d.Contains($"of shard 0 on store {victim} ", StringComparison.Ordinal)) == true,
                HealDeadline,
                $"the removed controller peer on the returned store {victim} destroyed as an orphan");
        }
        catch (TimeoutException)
        {
            Describe(last);
            throw;
        }

        var orphaned = await cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(SystemShards.Controller, victim).ToGrainKey()).GetStatusAsync();
        Assert.Equal(0UL, orphaned.PeerId);
        output.WriteLine($"the removed controller peer on store {victim} destroyed {clock.ElapsedMilliseconds} ms after the restart");
        var second = healed.Controller.GroupStores.Where(s => s != new StoreId(1)).Max();
        output.WriteLine($"store {victim} restarted; killing store {second}");
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(second));
        clock.Restart();
        try
        {
            healed = await Eventually.WaitAsync(
                async () => last = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
                s => s.Controller is { } view && view.Operations.Length == 0
                    && view.GroupStores.Length == 3 && !view.GroupStores.Contains(second) && view.GroupStores.Contains(victim)
                    && view.Shards.All(d => d.Replicas.Length == 3 && !d.HasReplicaOn(second) && d.Peers.All(p => p.Role == PeerRole.Voter)),
                HealDeadline,
                $"the controller group and every shard re-replicated off store {second} onto the returned store {victim}");
        }
        catch (TimeoutException)
        {
            Describe(last);
            throw;
        }

        output.WriteLine($"controller group on stores {string.Join(", ", healed.Controller!.GroupStores)} {clock.ElapsedMilliseconds} ms after the second kill");
        Assert.True(await source.GetTimestampAsync() > first);
        Assert.Equal("1", await cluster.Store.GetStringAsync("key-new"));
    }

    [Fact]
    public async Task An_operator_moves_the_controller_leaders_replica_and_every_silo_follows()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 4, shards: 2);
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var group = status.Controller!.GroupStores;
        var target = cluster.Stores.Single(s => !group.Contains(s));

        // The leader's own replica: leadership must be handed over before it is removed.
        var from = (await ControllerLeaderStatusAsync(cluster, group)).Replica.Store;
        var source = cluster.Cluster.Client.ServiceProvider.GetRequiredService<ITimestampSource>();
        long before = await source.GetTimestampAsync();
        long id = await cluster.Admin.MoveReplicaAsync(SystemShards.Controller, from, target);
        output.WriteLine($"operation {id}: controller replica from store {from} to store {target}");
        var moved = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Operations.Length == 0 && view.GroupStores.Contains(target) && !view.GroupStores.Contains(from),
            HealDeadline,
            $"the controller replica moved from store {from} to store {target}");
        var leader = await ControllerLeaderStatusAsync(cluster, moved.Controller!.GroupStores);
        Assert.Equal(moved.Controller.GroupStores.Order(), leader.Descriptor!.Replicas.Order());
        Assert.NotEqual(from, leader.Replica.Store);

        // The source's replica was destroyed; timestamps and writes go on, from every silo's front-end.
        var removed = await cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(SystemShards.Controller, from).ToGrainKey()).GetStatusAsync();
        Assert.Equal(0UL, removed.PeerId);
        Assert.True(await source.GetTimestampAsync() > before);
        var oracle = cluster.Cluster.Client.GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster);
        for (int i = 0; i < 10; i++)
        {
            Assert.True((await oracle.GetTimestampsAsync(1)).First > before);
        }

        await cluster.Store.PutAsync("after-move", "1");
        Assert.Equal("1", await cluster.Store.GetStringAsync("after-move"));

        // Bad moves of the group are refused.
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.Admin.MoveReplicaAsync(SystemShards.Controller, from, target));
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.Admin.TransferLeaderAsync(SystemShards.Controller, target));
    }

    private void Describe(ClusterStatus? status)
    {
        if (status?.Controller is not { } view)
        {
            output.WriteLine($"no controller view: {status?.ControllerError}");
            return;
        }

        output.WriteLine($"group stores {string.Join(", ", view.GroupStores)}, controller leader {status.ControllerLeader}, logic on {view.LogicSilo}");
        foreach (var report in status.ControllerReplicas)
        {
            output.WriteLine($"controller replica {report.Replica}: {report.Status?.Role} term {report.Status?.Term} {report.Status?.Descriptor} {report.Error}");
        }

        foreach (var store in view.Stores)
        {
            output.WriteLine($"store {store.Id}: {store.State}, heartbeat age {store.LastHeartbeatAgeMs}");
        }

        foreach (var op in view.Operations)
        {
            output.WriteLine($"operation {op.Id}: {op.Kind} of shard {op.Shard} step {op.Step} from {op.From} to {op.To}: {op.Waiting}");
        }

        foreach (var shard in view.Shards)
        {
            output.WriteLine(shard.ToString());
        }

        foreach (var decision in view.Balancer?.RecentDecisions ?? [])
        {
            output.WriteLine($"decision: {decision}");
        }
    }

    /// <summary>The status of the controller replica that leads with a majority of <paramref name="stores"/> agreeing.</summary>
    private static async Task<ReplicaStatus> ControllerLeaderStatusAsync(TestNoKvCluster cluster, IReadOnlyList<StoreId> stores) =>
        (await Eventually.WaitAsync(
            () => ControllerGroupStatus.MajorityLeaderAsync(cluster, stores),
            s => s?.Descriptor is not null,
            TimeSpan.FromSeconds(30),
            "the controller group to elect a leader"))!;
}
