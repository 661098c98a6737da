using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.IntegrationTests.Linearizability;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>
/// Shard merges through the controller on an in-process cluster, under a concurrent workload checked for
/// linearizability: co-located neighbours, neighbours whose replicas must first move, and a merge whose controller
/// leader is killed in the middle.
/// </summary>
public sealed class MergeTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];

    [Fact]
    public async Task A_split_shard_merges_back_while_clients_run_and_the_history_stays_linearizable()
    {
        await using var cluster = await StartAsync(silos: 3);
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => SplitTests.RunClientAsync(cluster, c, clock, stop.Token))).ToArray();

        await Task.Delay(800);
        var split = await cluster.Admin.SplitShardAsync(new ShardId(1), Encoding.UTF8.GetBytes("k4"));
        output.WriteLine($"split at {clock.ElapsedMilliseconds} ms: {split.Left}; {split.Right}");
        await Task.Delay(800);

        // The right half merges back into the left while the clients keep writing both.
        var merged = await cluster.Admin.MergeShardsAsync(split.Right.Id, split.Left.Id);
        long mergedAt = clock.ElapsedTicks;
        output.WriteLine($"merged at {clock.ElapsedMilliseconds} ms: {merged.Merged}");
        await Task.Delay(1200);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();

        Assert.Equal(split.Left.Id, merged.Merged.Id);
        Assert.Equal(split.Right.Id, merged.Source);
        Assert.Equal(split.Left.Range.Start, merged.Merged.Range.Start);
        Assert.Equal(split.Right.Range.End, merged.Merged.Range.End);
        Assert.Equal(Math.Max(split.Left.Epoch, split.Right.Epoch) + 1, merged.Merged.Epoch);
        AssertLinearizable(history, h => h.Any(o => !o.IsPending && o.Invoke > mergedAt && string.CompareOrdinal(o.Key, "k4") >= 0));
        await AssertServesAsync(cluster, Keys, "k", "l");
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(20), s => s.Map.Shards.All(d => d.Id != split.Right.Id));
        Assert.NotNull(TestNoKvCluster.LeaderOf(status, merged.Merged.Id));

        // A shard merged away: refused, nothing changes.
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.Admin.MergeShardsAsync(split.Right.Id, split.Left.Id));
    }

    [Fact]
    public async Task Neighbours_on_different_stores_are_co_located_by_a_replica_move_then_merged_while_clients_run()
    {
        // Four stores: shard 1 lives on stores 1-3, shard 2 on stores 2-4; keys on both sides of the boundary (0x80).
        string[] keys = ["k1", "k2", "k3", "\u00ff1", "\u00ff2", "\u00ff3"];

        // No store may be marked down while the four silos start (on a loaded machine the last one can take longer
        // than the tests' 3 s): re-replication would then move shard 2's replica off store 4 before the test looks.
        await using var cluster = await StartAsync(silos: 4, controller: o => o.StoreDownAfter = TimeSpan.FromMinutes(2));
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var target = status.Map.Shards.Single(s => s.Id == new ShardId(1));
        var source = status.Map.Shards.Single(s => s.Id == new ShardId(2));
        Assert.NotEqual(target.Replicas.Order(), source.Replicas.Order());
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => SplitTests.RunClientAsync(cluster, c, clock, stop.Token, keys))).ToArray();

        await Task.Delay(800);
        var merged = await cluster.Admin.MergeShardsAsync(source.Id, target.Id);
        long mergedAt = clock.ElapsedTicks;
        output.WriteLine($"merged at {clock.ElapsedMilliseconds} ms: {merged.Merged}");

        // Clients holding the map from before the merge route the source's keys to it, get WrongShard and refresh.
        await Task.Delay(2500);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();

        Assert.Equal(target.Id, merged.Merged.Id);
        Assert.True(merged.Merged.Range.Start.Length == 0 && merged.Merged.Range.End.Length == 0, $"merged range {merged.Merged.Range}");
        Assert.Equal(target.Replicas.Order(), merged.Merged.Replicas.Order());
        AssertLinearizable(history, h => h.Any(o => !o.IsPending && o.Invoke > mergedAt && o.Key.StartsWith('\u00ff')));
        await AssertServesAsync(cluster, keys, "", "\u00ff\u00ff");
        var view = await cluster.Cluster.Client.GetGrain<NoKv.Abstractions.Grains.IControllerGrain>(0).GetViewAsync();
        Assert.Equal(merged.Merged.ToString(), Assert.Single(view.Shards).ToString());
        Assert.Empty(view.Operations);
    }

    [Fact]
    public async Task A_merge_whose_controller_leader_is_killed_mid_operation_completes_once_the_store_returns_and_the_history_stays_linearizable()
    {
        // Operation rounds every 2 s: the kill lands while the recorded merge is still in progress.
        await using var cluster = await StartAsync(silos: 3, controller: o => o.OperationInterval = TimeSpan.FromSeconds(2));

        // Every shard leads before the workload starts, so the clients measure the merge, not the cluster start.
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var split = await cluster.Admin.SplitShardAsync(new ShardId(1), Encoding.UTF8.GetBytes("k4"));
        output.WriteLine($"split: {split.Left}; {split.Right}");
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => SplitTests.RunClientAsync(cluster, c, clock, stop.Token))).ToArray();
        await Task.Delay(800);

        // Start the merge, and kill the controller group's leader as soon as the operation is recorded.
        var controllerLeader = (await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2))).ControllerLeader ?? new StoreId(1);
        var admin = cluster.Admin.MergeShardsAsync(split.Right.Id, split.Left.Id);
        var recorded = await Eventually.WaitAsync(
            () => cluster.Cluster.Client.GetGrain<NoKv.Abstractions.Grains.IControllerGrain>(0).GetViewAsync(),
            v => v.Operations.Any(o => o.Kind == NoKv.Abstractions.Controller.OperationKind.Merge) || admin.IsCompleted,
            TimeSpan.FromSeconds(20),
            "the merge operation to be recorded");
        var step = recorded.Operations.FirstOrDefault(o => o.Kind == NoKv.Abstractions.Controller.OperationKind.Merge);
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(controllerLeader));
        output.WriteLine($"killed store {controllerLeader} (controller leader) at {clock.ElapsedMilliseconds} ms, merge at step {step?.Step.ToString() ?? "(done)"}");
        Assert.False(admin.IsCompletedSuccessfully, "the merge finished before the kill; the test did not kill anything mid-operation");

        // Its store returns: the source replica there applies the prepare, and the controller logic (wherever it runs
        // now) drives the operation to its end from its row.
        await Task.Delay(1500);
        await cluster.RestartStoreAsync(controllerLeader);
        output.WriteLine($"restarted store {controllerLeader} at {clock.ElapsedMilliseconds} ms");
        try
        {
            await admin;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The admin call ran on the killed silo's controller activation; the operation goes on without it.
            output.WriteLine($"admin call: {e.GetType().Name}: {e.Message}");
        }

        var view = await Eventually.WaitAsync(
            () => cluster.Cluster.Client.GetGrain<NoKv.Abstractions.Grains.IControllerGrain>(0).GetViewAsync(),
            v => v.Operations.Length == 0 && v.Shards.All(s => s.Id != split.Right.Id),
            TimeSpan.FromSeconds(60),
            "the merge to finish after the controller leader was killed");
        long mergedAt = clock.ElapsedTicks;
        output.WriteLine($"merged at {clock.ElapsedMilliseconds} ms: {view.Shards.Single(s => s.Id == split.Left.Id)}");
        await Task.Delay(1000);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();

        var merged = view.Shards.Single(s => s.Id == split.Left.Id);
        Assert.Equal(split.Right.Range.End, merged.Range.End);
        AssertLinearizable(history, h => h.Any(o => !o.IsPending && o.Invoke > mergedAt && string.CompareOrdinal(o.Key, "k4") >= 0));
        await AssertServesAsync(cluster, Keys, "k", "l");
    }

    private static Task<TestNoKvCluster> StartAsync(int silos, Action<NoKv.Grains.Controller.NoKvControllerOptions>? controller = null) => TestNoKvCluster.StartAsync(
        silos: silos,
        shards: 2,
        client: o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(8);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        },
        controller: controller);

    private void AssertLinearizable(List<Operation> history, Func<List<Operation>, bool> servedAfter)
    {
        int completed = history.Count(o => !o.IsPending);
        output.WriteLine($"{history.Count} operations, {completed} completed");
        Assert.True(completed > 50, $"only {completed} operations completed");
        Assert.True(servedAfter(history), "no completed operation on the merged-in range after the merge");
        var failure = LinearizabilityChecker.Check(history);
        Assert.True(failure is null, failure);
    }

    /// <summary>Every key writes and reads back, and one scan over [start, end) returns exactly the keys: the merged shard serves the whole range.</summary>
    private static async Task AssertServesAsync(TestNoKvCluster cluster, string[] keys, string start, string end)
    {
        foreach (var key in keys)
        {
            await cluster.Store.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes("final-" + key));
        }

        var scanned = new List<string>();
        await foreach (var entry in cluster.Store.ScanAsync(Encoding.UTF8.GetBytes(start), Encoding.UTF8.GetBytes(end), 100))
        {
            scanned.Add(Encoding.UTF8.GetString(entry.Key));
            Assert.Equal("final-" + Encoding.UTF8.GetString(entry.Key), Encoding.UTF8.GetString(entry.Value));
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), scanned);
    }
}
