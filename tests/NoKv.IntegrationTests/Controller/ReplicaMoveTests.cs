using System.Diagnostics;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.IntegrationTests.Linearizability;
using OperationKind = NoKv.IntegrationTests.Linearizability.OperationKind;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>
/// Controller operations on an in-process cluster of four stores: a replica moved while clients work (their history
/// must stay linearizable), a store killed for good (every shard back to three voters on live stores), and a store
/// decommissioned (drained, then removed).
/// </summary>
public sealed class ReplicaMoveTests(ITestOutputHelper output)
{
    private static readonly TimeSpan OperationDeadline = TimeSpan.FromSeconds(45);

    // A kill of the silo hosting the controller's logic costs its reactivation on top of the store timeout (once 31 s
    // here on the loaded 2-core machine against about 4 s otherwise).
    private static readonly TimeSpan HealDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_replica_moved_away_from_the_leader_under_a_concurrent_workload_keeps_the_history_linearizable()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 4, shards: 2, client: o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(8);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        });
        var shard = new ShardId(1);
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var descriptor = status.Map.Shards.Single(s => s.Id == shard);
        var from = TestNoKvCluster.LeaderOf(status, shard)!.Value;
        var to = cluster.Stores.First(s => !descriptor.HasReplicaOn(s));
        ulong sourcePeer = descriptor.PeerOn(from)!.Value.PeerId;
        output.WriteLine($"moving shard {shard} from store {from} (its leader, peer {sourcePeer}) to store {to}");

        string[] keys = ["k1", "k2", "k3"];
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => RunClientAsync(cluster, c, keys, clock, stop.Token))).ToArray();

        await Task.Delay(1000);
        long id = await cluster.Admin.MoveReplicaAsync(shard, from, to);
        output.WriteLine($"operation {id} started at {clock.ElapsedMilliseconds} ms");
        var moved = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Operations.Length == 0 && view.Shards.Single(x => x.Id == shard) is var d && d.PeerOn(to) is { Role: PeerRole.Voter } && !d.HasReplicaOn(from),
            OperationDeadline,
            $"shard {shard} moved from store {from} to store {to}");
        output.WriteLine($"moved at {clock.ElapsedMilliseconds} ms: {moved.Controller!.Shards.Single(x => x.Id == shard)}");
        await Task.Delay(1000);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();

        int completed = history.Count(o => !o.IsPending);
        output.WriteLine($"{history.Count} operations, {completed} completed");
        Assert.True(completed > 50, $"only {completed} operations completed");
        var failure = LinearizabilityChecker.Check(history);
        Assert.True(failure is null, failure);

        // The source's replica is gone (its log and state destroyed, a tombstone left); the new one serves.
        var source = await cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, from).ToGrainKey()).GetStatusAsync();
        Assert.Equal(0UL, source.PeerId);
        var target = await cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, to).ToGrainKey()).GetStatusAsync();
        Assert.False(target.Uninitialized);
        Assert.NotEqual(sourcePeer, target.PeerId);
        await cluster.Store.PutAsync("k1", "after");
        Assert.Equal("after", await cluster.Store.GetStringAsync("k1"));
    }

    [Fact]
    public async Task A_store_killed_for_good_has_every_shard_back_at_three_voters_on_live_stores_and_loses_its_orphans_when_it_returns()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 4, shards: 4);
        for (int i = 0; i < 40; i++)
        {
            await cluster.Store.PutAsync($"key-{i:D3}", $"value-{i}");
            await cluster.Store.PutAsync($"\u00e9key-{i:D3}", $"value-{i}");
        }

        var victim = new StoreId(4);
        var before = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var orphaned = before.Map.Shards.Where(d => d.HasReplicaOn(victim)).Select(d => (d.Id, d.PeerOn(victim)!.Value.PeerId)).ToList();
        Assert.NotEmpty(orphaned);
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(victim));
        var clock = Stopwatch.StartNew();
        var healed = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Operations.Length == 0 && view.Shards.Length == before.Map.Shards.Length
                && view.Shards.All(d => d.Replicas.Length == 3 && !d.HasReplicaOn(victim) && d.Peers.All(p => p.Role == PeerRole.Voter)),
            HealDeadline,
            $"every shard re-replicated off store {victim}");
        output.WriteLine($"every shard back at 3 voters {clock.ElapsedMilliseconds} ms after the kill (store down after 3 s)");
        foreach (var shard in healed.Controller!.Shards)
        {
            output.WriteLine(shard.ToString());
        }

        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"value-{i}", await cluster.Store.GetStringAsync($"key-{i:D3}"));
            Assert.Equal($"value-{i}", await cluster.Store.GetStringAsync($"\u00e9key-{i:D3}"));
        }

        await cluster.Store.PutAsync("key-new", "1");
        Assert.Equal("1", await cluster.Store.GetStringAsync("key-new"));

        // The store comes back holding the replicas its shards removed while it was away: the controller finds them in
        // its heartbeats and destroys them (then the store holds no replica of those shards: peer 0, a tombstone left).
        await cluster.RestartStoreAsync(victim);
        clock.Restart();
        var expected = orphaned.Select(o => $"destroyed orphan peer {o.PeerId} of shard {o.Id} on store {victim}").ToList();
        await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller?.Balancer is { } balancer && expected.All(e => balancer.RecentDecisions.Any(d => d.Contains(e, StringComparison.Ordinal))),
            OperationDeadline,
            $"the controller destroying {string.Join(", ", expected)}");
        foreach (var (shard, peer) in orphaned)
        {
            var replica = await cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, victim).ToGrainKey()).GetStatusAsync();
            Assert.Equal(0UL, replica.PeerId);
        }

        output.WriteLine($"{orphaned.Count} orphan(s) destroyed {clock.ElapsedMilliseconds} ms after the restart");
        var after = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(5));
        Assert.All(after.Controller!.Shards, d => Assert.Equal(3, d.Replicas.Length));
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"value-{i}", await cluster.Store.GetStringAsync($"key-{i:D3}"));
        }
    }

    [Fact]
    public async Task A_store_returning_after_a_shard_it_held_was_re_replicated_and_then_merged_away_loses_that_orphan_too()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 4, shards: 4);
        for (int i = 0; i < 40; i++)
        {
            await cluster.Store.PutAsync($"key-{i:D3}", $"value-{i}");
            await cluster.Store.PutAsync($"\u00e9key-{i:D3}", $"value-{i}");
        }

        var victim = new StoreId(4);
        var before = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var orphaned = before.Map.Shards.Where(d => d.HasReplicaOn(victim)).Select(d => (d.Id, d.PeerOn(victim)!.Value.PeerId)).ToList();
        var ordered = before.Map.Shards.OrderBy(d => Convert.ToHexString(d.Range.Start), StringComparer.Ordinal).ToList();

        // The source: a shard with a replica on the victim; the target: its right neighbour (or left, for the last).
        int at = ordered.FindIndex(d => d.HasReplicaOn(victim));
        Assert.True(at >= 0, "no shard has a replica on the victim");
        var source = ordered[at];
        var target = at + 1 < ordered.Count ? ordered[at + 1] : ordered[at - 1];
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(victim));
        await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Operations.Length == 0 && view.Shards.Length == before.Map.Shards.Length
                && view.Shards.All(d => d.Replicas.Length == 3 && !d.HasReplicaOn(victim) && d.Peers.All(p => p.Role == PeerRole.Voter)),
            HealDeadline,
            $"every shard re-replicated off store {victim}");

        // With three stores left every shard lives on all of them: the merge needs no move.
        var merged = await cluster.Admin.MergeShardsAsync(source.Id, target.Id);
        output.WriteLine($"shard {source.Id} merged into {merged.Merged} while store {victim} was down");

        // The store returns holding the peer of a shard the map no longer names: only its epoch, below every epoch now
        // over its range, tells it from a split half not yet recorded.
        await cluster.RestartStoreAsync(victim);
        var clock = Stopwatch.StartNew();
        var expected = orphaned.Select(o => $"destroyed orphan peer {o.PeerId} of shard {o.Id} on store {victim}").ToList();
        var done = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller?.Balancer is { } balancer && expected.All(e => balancer.RecentDecisions.Any(d => d.Contains(e, StringComparison.Ordinal))),
            OperationDeadline,
            $"the controller destroying {string.Join(", ", expected)}");
        var sourceOrphan = orphaned.Single(o => o.Id == source.Id);
        Assert.Contains(done.Controller!.Balancer!.RecentDecisions, d => d.Contains($"orphan peer {sourceOrphan.PeerId} of shard {source.Id} on store {victim} (the shard was merged away", StringComparison.Ordinal));
        foreach (var (shard, _) in orphaned)
        {
            var replica = await cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, victim).ToGrainKey()).GetStatusAsync();
            Assert.Equal(0UL, replica.PeerId);
        }

        output.WriteLine($"{orphaned.Count} orphan(s), one of a merged-away shard, destroyed {clock.ElapsedMilliseconds} ms after the restart");
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"value-{i}", await cluster.Store.GetStringAsync($"key-{i:D3}"));
            Assert.Equal($"value-{i}", await cluster.Store.GetStringAsync($"\u00e9key-{i:D3}"));
        }
    }

    [Fact]
    public async Task A_decommissioned_store_is_drained_then_marked_removed_and_bad_operations_are_refused()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 4, shards: 2);
        await cluster.Store.PutAsync("a", "1");
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var shard = status.Map.Shards[0];
        var outsider = cluster.Stores.First(s => !shard.HasReplicaOn(s));
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.Admin.MoveReplicaAsync(shard.Id, outsider, shard.Replicas[0]));
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.Admin.TransferLeaderAsync(shard.Id, outsider));

        var leaving = new StoreId(4);
        await cluster.Admin.DecommissionStoreAsync(leaving);
        await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Stores.Single(x => x.Id == leaving).State == StoreState.Removed && view.Shards.All(d => !d.HasReplicaOn(leaving) && d.Replicas.Length == 3),
            OperationDeadline,
            $"store {leaving} drained and removed");
        Assert.Equal("1", await cluster.Store.GetStringAsync("a"));
    }

    private static async Task<List<Operation>> RunClientAsync(TestNoKvCluster cluster, int c, string[] keys, Stopwatch clock, CancellationToken stop)
    {
        var random = new Random(1000 + c);
        var local = new List<Operation>();
        int sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            string key = keys[random.Next(keys.Length)];
            int dice = random.Next(100);
            long invoke = clock.ElapsedTicks;
            try
            {
                if (dice < 40)
                {
                    string? value = await cluster.Store.GetStringAsync(key);
                    local.Add(new Operation(c, OperationKind.Get, key, value, null, false, invoke, clock.ElapsedTicks));
                }
                else if (dice < 80)
                {
                    string value = $"c{c}-{sequence++}";
                    await RecordAsync(local, new Operation(c, OperationKind.Put, key, value, null, false, invoke, 0), () => cluster.Store.PutAsync(key, value), clock);
                }
                else
                {
                    string? expected = random.Next(3) == 0 || sequence == 0 ? null : $"c{c}-{random.Next(sequence)}";
                    string value = $"c{c}-{sequence++}";
                    bool swapped = false;
                    await RecordAsync(local, new Operation(c, OperationKind.CompareAndSwap, key, value, expected, false, invoke, 0),
                        async () => swapped = await cluster.Store.CompareAndSwapAsync(key, expected, value), clock, () => swapped);
                }
            }
            catch (NoKvTimeoutException) when (dice < 40)
            {
                // A read that did not complete constrains nothing.
            }
        }

        return local;
    }

    private static async Task RecordAsync(List<Operation> history, Operation op, Func<Task> action, Stopwatch clock, Func<bool>? swapped = null)
    {
        try
        {
            await action();
            history.Add(op with { Return = clock.ElapsedTicks, Swapped = swapped?.Invoke() ?? false });
        }
        catch (NoKvTimeoutException)
        {
            history.Add(op with { Return = Operation.Pending });
        }
    }
}
