using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.Grains.Controller;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.IntegrationTests.Linearizability;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>Shard splits through the controller on an in-process cluster: under a concurrent workload, and resumed after the controller's logic died mid-operation.</summary>
public sealed class SplitTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];

    [Fact]
    public async Task A_loaded_shard_splits_while_clients_run_and_the_history_stays_linearizable()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2, client: o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(8);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        });
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => RunClientAsync(cluster, c, clock, stop.Token))).ToArray();

        await Task.Delay(1000);
        var outcome = await cluster.Admin.SplitShardAsync(new ShardId(1), Encoding.UTF8.GetBytes("k4"));
        output.WriteLine($"split at {clock.ElapsedMilliseconds} ms: {outcome.Left}; {outcome.Right}");
        await Task.Delay(1500);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();

        Assert.Equal(Encoding.UTF8.GetBytes("k4"), outcome.Left.Range.End);
        Assert.Equal(Encoding.UTF8.GetBytes("k4"), outcome.Right.Range.Start);
        Assert.Equal(2, outcome.Right.Epoch);
        int completed = history.Count(o => !o.IsPending);
        output.WriteLine($"{history.Count} operations, {completed} completed");
        Assert.True(completed > 50, $"only {completed} operations completed");
        Assert.True(history.Any(o => !o.IsPending && o.Return > 0 && string.CompareOrdinal(o.Key, "k4") >= 0 && o.Invoke > clock.Elapsed.Ticks / 2), "no completed operation on the new shard");
        var failure = LinearizabilityChecker.Check(history);
        Assert.True(failure is null, failure);

        // Both halves serve, a scan crosses the split point, and the cluster status shows the new shard with a leader.
        foreach (var key in Keys)
        {
            await cluster.Store.PutAsync(key, "final-" + key);
        }

        var scanned = new List<string>();
        await foreach (var entry in cluster.Store.ScanAsync(Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("l"), 100))
        {
            scanned.Add(Encoding.UTF8.GetString(entry.Key));
        }

        Assert.Equal(Keys, scanned);
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(20), s => s.Map.Shards.Any(d => d.Id == outcome.Right.Id));
        Assert.Contains(status.Map.Shards, d => d.Id == outcome.Right.Id && d.Range.Start.AsSpan().SequenceEqual("k4"u8));
        Assert.NotNull(TestNoKvCluster.LeaderOf(status, outcome.Right.Id));
    }

    [Fact]
    public async Task A_split_left_half_done_by_a_dead_controller_is_resumed_and_completes_with_the_controller_leader_killed()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        foreach (var key in Keys)
        {
            await cluster.Store.PutAsync(key, "v-" + key);
        }

        // A copy of the controller logic that records the operation and dies before proposing anything.
        var group = new ControllerGroupClient(new GrainControllerTransport(cluster.Cluster.Client), [new StoreId(1), new StoreId(2), new StoreId(3)], 17, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        var dying = new SplitOperation(new ControllerOperationRows(group), new GrainShardAccess(cluster.Cluster.Client, TimeSpan.FromSeconds(2)), group.OperationTimeout);
        var record = await dying.StartAsync(new ShardId(1), null);
        output.WriteLine($"recorded operation {record.Id} for shard {record.Shard}, step {record.Step}");

        // And the controller group's leader dies too.
        var status = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2));
        var controllerLeader = status.ControllerLeader ?? new StoreId(1);
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(controllerLeader));
        output.WriteLine($"killed store {controllerLeader} (controller leader)");

        // The controller logic (wherever it runs now) resumes the operation from its row and commits both halves.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        ShardDescriptor[] shards = [];
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var view = await cluster.Cluster.Client.GetGrain<NoKv.Abstractions.Grains.IControllerGrain>(0).GetViewAsync();
                shards = view.Shards;
                if (shards.Length == 3 && view.Operations.Length == 0)
                {
                    break;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                output.WriteLine($"view: {e.GetType().Name}: {e.Message}");
            }

            await Task.Delay(250);
        }

        Assert.Equal(3, shards.Length);
        var left = shards.Single(s => s.Id == new ShardId(1));
        var right = shards.Single(s => s.Range.Start.AsSpan().SequenceEqual(left.Range.End));
        output.WriteLine($"{left}; {right}");
        Assert.Equal(2, left.Epoch);
        var served = await cluster.Cluster.Client.GetGrain<NoKv.Abstractions.Grains.IShardMapGrain>(0).GetShardMapAsync();
        output.WriteLine($"map grain: version {served.Version}: {string.Join("; ", served.Shards.Select(s => s.ToString()))}");
        foreach (var key in Keys)
        {
            Assert.Equal("v-" + key, await cluster.Store.GetStringAsync(key));
        }
    }

    [Fact]
    public async Task A_new_halfs_replica_reached_before_its_store_applied_the_split_opens_when_the_split_applies()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));

        // Activate store 3's replica grains of the next shard ids before any split exists: they activate empty, as a
        // replica does when a client or a peer reaches a new half on a store that has not applied the split yet.
        var candidates = Enumerable.Range(3, 6).Select(id => new ShardId(id)).ToArray();
        foreach (var id in candidates)
        {
            var early = await Replica(cluster, id, new StoreId(3)).GetStatusAsync();
            Assert.Equal(0, early.Epoch);
        }

        var outcome = await cluster.Admin.SplitShardAsync(new ShardId(1), Encoding.UTF8.GetBytes("k4"));
        output.WriteLine($"split: {outcome.Left}; {outcome.Right}");
        Assert.True(candidates.Contains(outcome.Right.Id), $"the split made shard {outcome.Right.Id}, not one of the pre-activated ids");

        // The activation made while store 3 held nothing opens the replica once the split applies there, and the new
        // half serves with all three replicas.
        await Eventually.WaitAsync(
            () => Replica(cluster, outcome.Right.Id, new StoreId(3)).GetStatusAsync(),
            s => s.Epoch == outcome.Right.Epoch && s.AppliedIndex > 0,
            TimeSpan.FromSeconds(30),
            "store 3's replica of the new half to open under its early activation");
        await cluster.Store.PutAsync("k6", "after-split");
        Assert.Equal("after-split", await cluster.Store.GetStringAsync("k6"));
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30), s => s.Map.Shards.Any(d => d.Id == outcome.Right.Id));
        Assert.NotNull(TestNoKvCluster.LeaderOf(status, outcome.Right.Id));
    }

    private static NoKv.Abstractions.Grains.IShardReplicaGrain Replica(TestNoKvCluster cluster, ShardId shard, StoreId store) =>
        cluster.Cluster.Client.GetGrain<NoKv.Abstractions.Grains.IShardReplicaGrain>(new ReplicaId(shard, store).ToGrainKey());

    internal static async Task<List<Operation>> RunClientAsync(TestNoKvCluster cluster, int client, Stopwatch clock, CancellationToken stop, string[]? keys = null)
    {
        keys ??= Keys;
        var random = new Random(client);
        var local = new List<Operation>();
        int sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            string key = keys[random.Next(keys.Length)];
            long invoke = clock.ElapsedTicks;
            int dice = random.Next(100);
            try
            {
                if (dice < 40)
                {
                    string? value = await cluster.Store.GetStringAsync(key);
                    local.Add(new Operation(client, OperationKind.Get, key, value, null, false, invoke, clock.ElapsedTicks));
                }
                else if (dice < 75)
                {
                    string value = $"c{client}-{sequence++}";
                    await cluster.Store.PutAsync(key, value);
                    local.Add(new Operation(client, OperationKind.Put, key, value, null, false, invoke, clock.ElapsedTicks));
                }
                else
                {
                    string? expected = random.Next(3) == 0 || sequence == 0 ? null : $"c{client}-{random.Next(sequence)}";
                    string value = $"c{client}-{sequence++}";
                    bool swapped = await cluster.Store.CompareAndSwapAsync(key, expected, value);
                    local.Add(new Operation(client, OperationKind.CompareAndSwap, key, value, expected, swapped, invoke, clock.ElapsedTicks));
                }
            }
            catch (NoKvTimeoutException)
            {
                if (dice >= 40)
                {
                    local.Add(new Operation(client, dice < 75 ? OperationKind.Put : OperationKind.CompareAndSwap, key, null, null, false, invoke, Operation.Pending));
                }
            }
        }

        return local;
    }
}
