using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.IntegrationTests.Linearizability;
using OperationKind = NoKv.IntegrationTests.Linearizability.OperationKind;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>
/// The controller's balancer on an in-process cluster with nothing asked of it by hand: a shard loaded past a small
/// size threshold splits on its own, and a store that joins later receives replicas and becomes some shards'
/// preferred leader, while clients run gets, puts and compare-and-swaps whose history must stay linearizable.
/// </summary>
public sealed class BalancerTests(ITestOutputHelper output)
{
    private const int SplitBytes = 1536 << 10;
    private static readonly string[] Keys = ["1k0", "1k1", "1k2", "1k3", "1k4", "1k5"];

    [Fact]
    public async Task A_big_shard_splits_on_its_own_and_a_new_store_gets_replicas_and_leaders_under_a_linearizable_workload()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(
            silos: 3,
            shards: 4,
            memtableBytes: 256 << 10,
            client: o =>
            {
                o.OperationTimeout = TimeSpan.FromSeconds(8);
                o.AttemptTimeout = TimeSpan.FromSeconds(1);
            },
            controller: o =>
            {
                o.LeaderBalance = true;
                o.ReplicaBalance = true;
                o.ReplicaSizeBalance = false; // this test checks counts (within 1); sizes are balanced in the model tests
                o.ReplicaLoadBalance = false; // likewise: with rates known, counts would be allowed 1 + SizeCountSlack apart
                o.AutoSplit = true;
                o.BalanceInterval = TimeSpan.FromMilliseconds(500);
                o.BalanceCooldown = TimeSpan.FromSeconds(2);
                o.MaxBalanceMoves = 2;
                o.SplitBytes = SplitBytes;
                o.SplitRequestsPerSecond = 0;
            });
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 3).Select(c => Task.Run(() => RunClientAsync(cluster, c, clock, stop.Token))).ToArray();

        // Shard 1 ([start, 0x40): digits) gets about 2.4 MiB of incompressible values; the workload's keys are in it too.
        var random = new Random(7);
        var values = Enumerable.Range(0, 1200).Select(_ => { var v = new byte[2048]; random.NextBytes(v); return v; }).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, values.Length), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await cluster.Store.PutAsync(Encoding.UTF8.GetBytes(BulkKey(i)), values[i], ct));
        output.WriteLine($"loaded {values.Length} values at {clock.ElapsedMilliseconds} ms");

        // A new store joins (outside the bootstrap layout: it starts empty).
        var added = new StoreId(4);
        await cluster.RestartStoreAsync(added);
        output.WriteLine($"store {added} started at {clock.ElapsedMilliseconds} ms");

        var balanced = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Operations.Length == 0 && view.Shards.Length > 4
                && view.Stores.FirstOrDefault(x => x.Id == added) is { Replicas: >= 3, PreferredLeaders: >= 1 }
                && view.Stores.Where(x => x.State == NoKv.Abstractions.Controller.StoreState.Up).Select(x => x.Replicas).DefaultIfEmpty().Max()
                    - view.Stores.Where(x => x.State == NoKv.Abstractions.Controller.StoreState.Up).Select(x => x.Replicas).DefaultIfEmpty().Min() <= 1,
            TimeSpan.FromSeconds(90),
            "a split on its own, and store 4 holding its share of replicas and preferred leaders");
        var final = balanced.Controller!;
        output.WriteLine($"balanced at {clock.ElapsedMilliseconds} ms; decisions:");
        foreach (var decision in final.Balancer!.RecentDecisions)
        {
            output.WriteLine("  " + decision);
        }

        foreach (var store in final.Stores)
        {
            output.WriteLine($"store {store.Id}: {store.State}, {store.Replicas} replicas, preferred by {store.PreferredLeaders}, leads {store.Leaders}");
        }

        foreach (var shard in final.Shards)
        {
            output.WriteLine(shard.ToString());
        }

        await Task.Delay(500);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();
        int completed = history.Count(o => !o.IsPending);
        output.WriteLine($"{history.Count} operations, {completed} completed");
        Assert.True(completed > 50, $"only {completed} operations completed");
        var failure = LinearizabilityChecker.Check(history);
        Assert.True(failure is null, failure);

        Assert.Contains(final.Balancer.RecentDecisions, d => d.Contains("split shard 1", StringComparison.Ordinal));
        for (int i = 0; i < values.Length; i += 7)
        {
            Assert.Equal(values[i], await cluster.Store.GetAsync(Encoding.UTF8.GetBytes(BulkKey(i))));
        }
    }

    [Fact]
    public async Task A_shard_hot_on_part_of_its_range_splits_by_load_at_the_hot_part_not_at_the_middle()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(
            silos: 3,
            shards: 4,
            controller: o =>
            {
                o.AutoSplit = true;
                o.BalanceInterval = TimeSpan.FromMilliseconds(500);
                o.SplitBytes = 1L << 40;
                o.SplitRequestsPerSecond = 100;
                o.SplitLoadWindow = TimeSpan.FromSeconds(3);
            });
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));

        // Shard 1 ([start, 0x40)) holds 200 keys 1k000-1k199, written once; the load then falls on 1k150-1k159 only.
        // By keys the middle is about 1k100; by load it lies among the hot ten.
        for (int i = 0; i < 200; i++)
        {
            await cluster.Store.PutAsync($"1k{i:D3}", $"v{i}");
        }

        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 16).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                int i = 150 + random.Next(10);
                Assert.Equal($"v{i}", await cluster.Store.GetStringAsync($"1k{i:D3}"));
            }
        })).ToArray();

        var split = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Shards.Length > 4 && view.Operations.Length == 0,
            TimeSpan.FromSeconds(60),
            "shard 1 splitting by load");
        stop.Cancel();
        await Task.WhenAll(readers);

        var decisions = split.Controller!.Balancer!.RecentDecisions;
        foreach (var decision in decisions)
        {
            output.WriteLine("  " + decision);
        }

        var first = decisions.First(d => d.Contains("split shard 1", StringComparison.Ordinal));
        Assert.Contains("at the load's middle key", first);
        var left = split.Controller.Shards.Single(d => d.Id == new ShardId(1));
        string cut = Encoding.UTF8.GetString(left.Range.End);
        output.WriteLine($"shard 1 now {left.Range}; cut at {cut}");
        Assert.InRange(string.CompareOrdinal(cut, "1k150"), 0, int.MaxValue);
        Assert.InRange(string.CompareOrdinal(cut, "1k159"), int.MinValue, 0);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"v{i}", await cluster.Store.GetStringAsync($"1k{i:D3}"));
        }
    }

    private static string BulkKey(int i) => $"0bulk-{i:D5}";

    private static async Task<List<Operation>> RunClientAsync(TestNoKvCluster cluster, int client, Stopwatch clock, CancellationToken stop)
    {
        var random = new Random(client);
        var local = new List<Operation>();
        int sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            string key = Keys[random.Next(Keys.Length)];
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
