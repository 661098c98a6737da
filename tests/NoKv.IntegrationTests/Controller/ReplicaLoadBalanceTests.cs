using NoKv.Abstractions.Sharding;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>
/// Replica balancing by load on an in-process cluster: four stores, eight shards on three stores each (shard i on
/// stores i, i+1, i+2), so stores 1-3 hold both shard 1 and shard 5 and store 4 neither. Readers keep both hot while
/// replica counts are even: the balancer must move one of their replicas to store 4, and every value stays readable.
/// </summary>
public sealed class ReplicaLoadBalanceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Replicas_of_hot_shards_move_from_the_stores_carrying_them_to_the_idle_store()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(
            silos: 4,
            shards: 8,
            controller: o =>
            {
                o.ReplicaBalance = true;
                o.ReplicaSizeBalance = false;
                o.BalanceInterval = TimeSpan.FromMilliseconds(500);
                o.BalanceCooldown = TimeSpan.FromSeconds(2);
                // The in-process cluster serves a few thousand reads a second on a loaded machine; a low minimum lets
                // the test see a move without waiting on throughput it may not reach.
                o.ReplicaLoadMinRequestsPerSecond = 100;
            });
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));

        // Shard 1 is [start, 0x20), shard 5 [0x80, 0xA0).
        byte[][] hot = [.. Enumerable.Range(0, 8).Select(i => new byte[] { 0x10, (byte)i }), .. Enumerable.Range(0, 8).Select(i => new byte[] { 0x85, (byte)i })];
        foreach (var key in hot)
        {
            await cluster.Store.PutAsync(key, key);
        }

        var before = (await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(3))).Map.Shards;
        Assert.DoesNotContain(before, s => (s.Id.Value is 1 or 5) && s.HasReplicaOn(new StoreId(4)));

        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 12).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var key = hot[random.Next(hot.Length)];
                Assert.Equal(key, await cluster.Store.GetAsync(key));
            }
        })).ToArray();

        try
        {
            var moved = await Eventually.WaitAsync(
                () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
                s => s.Controller is { } view && view.Shards.Any(d => (d.Id.Value is 1 or 5) && d.HasReplicaOn(new StoreId(4))),
                TimeSpan.FromSeconds(90),
                "a replica of shard 1 or 5 moving to store 4");
            foreach (var decision in moved.Controller!.Balancer!.RecentDecisions)
            {
                output.WriteLine("  " + decision);
            }

            foreach (var store in moved.Controller.Stores)
            {
                output.WriteLine($"store {store.Id}: {store.Replicas} replicas, {store.ReadsPerSecond:F0} reads/s led, hot keys {store.HotKeys?.Length ?? 0}");
            }

            Assert.Contains(moved.Controller.Balancer.RecentDecisions, d => d.Contains("to store 4", StringComparison.Ordinal) && d.Contains("requests/s", StringComparison.Ordinal));
            // The hot keys reached the controller with the heartbeats.
            Assert.Contains(moved.Controller.Stores, s => s.HotKeys is { Length: > 0 } keys && keys.Any(k => k.Key.Length == 2 && k.Key[0] is 0x10 or 0x85));
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(readers);
        }

        foreach (var key in hot)
        {
            Assert.Equal(key, await cluster.Store.GetAsync(key));
        }
    }
}
