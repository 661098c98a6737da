using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>
/// Replica balancing by load on an in-process cluster: four stores, eight shards on three stores each, two of them
/// lacking the same store. Readers keep those two hot while replica counts are even: the balancer must move one of
/// their replicas to the store holding neither, the hot keys must reach the controller, and every value stays readable.
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

        // A slow start may have marked a store down and re-replicated its shards (seen: store 2 then starts empty and
        // receives replicas by count): wait until the controller sees every store up, counts even and nothing in
        // progress, then take two shards that lack the same store (with eight shards of three
        // replicas on four stores, two always do) and make them hot.
        var quiet = await Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            s => s.Controller is { } view && view.Operations.Length == 0 && view.Stores.Length == 4 && view.Stores.All(x => x.State == StoreState.Up)
                && view.Shards.All(d => d.Peers.Length == 3) && view.Stores.Max(x => x.Replicas) - view.Stores.Min(x => x.Replicas) <= 1,
            TimeSpan.FromSeconds(90),
            "every store up, replica counts even and no operation in progress");
        var shards = quiet.Controller!.Shards;
        var (idle, pair) = cluster.Stores
            .Select(store => (Store: store, Lacking: shards.Where(d => !d.HasReplicaOn(store)).Take(2).ToArray()))
            .First(x => x.Lacking.Length == 2);
        output.WriteLine($"hot shards {pair[0].Id} and {pair[1].Id}, neither on store {idle}");
        byte[][] hot = [.. pair.SelectMany(d => Enumerable.Range(0, 8).Select(i => (byte[])[.. d.Range.Start, 0x01, (byte)i]))];
        foreach (var key in hot)
        {
            await cluster.Store.PutAsync(key, key);
        }

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
                s => s.Controller is { } view && view.Shards.Any(d => pair.Any(p => p.Id == d.Id) && d.HasReplicaOn(idle)),
                TimeSpan.FromSeconds(90),
                $"a replica of shard {pair[0].Id} or {pair[1].Id} moving to store {idle}");
            foreach (var decision in moved.Controller!.Balancer!.RecentDecisions)
            {
                output.WriteLine("  " + decision);
            }

            foreach (var store in moved.Controller.Stores)
            {
                output.WriteLine($"store {store.Id}: {store.Replicas} replicas, {store.ReadsPerSecond:F0} reads/s led, hot keys {store.HotKeys?.Length ?? 0}");
            }

            Assert.Contains(moved.Controller.Balancer.RecentDecisions, d => d.Contains($"to store {idle}:", StringComparison.Ordinal) && d.Contains("requests/s", StringComparison.Ordinal));
            // The hot keys reach the controller with the heartbeats once the stores' trackers complete a window (10 s).
            await Eventually.WaitAsync(
                () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
                s => s.Controller is { } view && view.Stores.Any(x => x.HotKeys is { Length: > 0 } keys && keys.Any(k => hot.Any(h => h.AsSpan().SequenceEqual(k.Key)))),
                TimeSpan.FromSeconds(30),
                "the hot keys in the controller's view");
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
