using System.Diagnostics;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.IntegrationTests.Linearizability;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>
/// Concurrent clients run gets, puts, deletes and compare-and-swaps on a few keys while replica-to-replica
/// Raft traffic is dropped, delayed (so reordered) and partitioned; the recorded history must be linearizable.
/// </summary>
public sealed class LinearizabilityUnderFaultsTests(ITestOutputHelper output)
{

    [Theory]
    [InlineData(20261124)]
    [InlineData(7)]
    public async Task HistoryIsLinearizableUnderDropsDelaysAndPartitions(int seed)
    {
        output.WriteLine($"seed {seed}");
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2, client: o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(6);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        });
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        cluster.Faults.Reseed(seed);

        // Keys on both shards (split at first byte 0x80: "é" is 0xC3 0xA9 in UTF-8).
        string[] keys = ["k1", "k2", "é1", "é2"];
        var history = new List<Operation>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        var clients = Enumerable.Range(0, 6).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed + c);
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
                    else if (dice < 70)
                    {
                        string value = $"c{c}-{sequence++}";
                        await Record(local, new Operation(c, OperationKind.Put, key, value, null, false, invoke, 0), () => cluster.Store.PutAsync(key, value), clock);
                    }
                    else if (dice < 80)
                    {
                        await Record(local, new Operation(c, OperationKind.Delete, key, null, null, false, invoke, 0), () => cluster.Store.DeleteAsync(key), clock);
                    }
                    else
                    {
                        // Compare against a value this client may have written recently (or absent).
                        string? expected = random.Next(3) == 0 || sequence == 0 ? null : $"c{c}-{random.Next(sequence)}";
                        string value = $"c{c}-{sequence++}";
                        bool swapped = false;
                        await Record(local, new Operation(c, OperationKind.CompareAndSwap, key, value, expected, false, invoke, 0),
                            async () => swapped = await cluster.Store.CompareAndSwapAsync(key, expected, value), clock, () => swapped);
                    }
                }
                catch (NoKvTimeoutException) when (dice < 40)
                {
                    // A read that did not complete constrains nothing.
                }
            }

            return local;
        })).ToArray();

        var faults = Task.Run(async () =>
        {
            await Task.Delay(1500);
            cluster.Faults.SetDropRate(0.2);
            cluster.Faults.SetMaxDelay(40);
            await Task.Delay(2500);
            cluster.Faults.Heal();
            var status = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1));
            var leader = TestNoKvCluster.LeaderOf(status, new ShardId(1)) ?? new StoreId(1);
            cluster.Faults.Isolate(leader, cluster.Stores);
            output.WriteLine($"isolated store {leader} (leader of shard 1) at {clock.ElapsedMilliseconds} ms");
            await Task.Delay(3000);
            cluster.Faults.Heal();
            output.WriteLine($"healed at {clock.ElapsedMilliseconds} ms");
            await Task.Delay(2000);
            stop.Cancel();
        });

        await faults;
        foreach (var client in clients)
        {
            history.AddRange(await client);
        }

        int completed = history.Count(o => !o.IsPending);
        output.WriteLine($"{history.Count} operations ({completed} completed, {history.Count - completed} with unknown outcome); {cluster.Faults.Dropped} Raft batches dropped, {cluster.Faults.Delayed} delayed");
        Assert.True(completed > 100, $"only {completed} operations completed");
        Assert.True(cluster.Faults.Dropped > 0, "no faults were injected");
        Assert.Contains(history, o => o.Kind == OperationKind.CompareAndSwap && o.Swapped);

        var failure = LinearizabilityChecker.Check(history);
        Assert.True(failure is null, $"seed {seed}: {failure}");
    }

    private static async Task Record(List<Operation> history, Operation op, Func<Task> action, Stopwatch clock, Func<bool>? swapped = null)
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
