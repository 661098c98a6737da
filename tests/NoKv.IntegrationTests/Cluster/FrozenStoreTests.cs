using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>
/// A silo that stops answering (as under SIGSTOP) while closed-loop writers run on every shard: the shard it led
/// moves on after about one attempt timeout plus an election, the others never wait for it, and the client asks it
/// again only for its bounded probes.
/// </summary>
public sealed class FrozenStoreTests(ITestOutputHelper output)
{
    private const int WritersPerShard = 2;

    [Fact]
    public async Task AFrozenLeaderStallsOnlyItsOwnShardAndIsProbedNotRetried()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 3);
        var status = await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        var map = status.Map;

        // Store 2 leads one shard once balanced (store 1 hosts the test cluster's membership, so it is not frozen).
        var frozenStore = new StoreId(2);
        var frozenShard = map.Shards.Single(s => TestNoKvCluster.LeaderOf(status, s.Id) == frozenStore).Id;
        var attemptTimeout = TimeSpan.FromSeconds(2); // TestNoKvCluster's client setting

        var clock = Stopwatch.StartNew();
        var done = map.Shards.ToDictionary(s => s.Id, _ => new ConcurrentQueue<(TimeSpan Start, TimeSpan End)>());
        using var stop = new CancellationTokenSource();
        var writers = map.Shards.SelectMany(shard => Enumerable.Range(0, WritersPerShard).Select(w => Task.Run(async () =>
        {
            var keys = KeysIn(map, shard, 4, w);
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                var start = clock.Elapsed;
                await cluster.Store.PutAsync(keys[i % keys.Length], $"v{i}");
                done[shard.Id].Enqueue((start, clock.Elapsed));
            }
        }))).ToArray();

        await Eventually.WaitAsync(() => Task.FromResult(done.Values.Min(q => q.Count)), n => n >= 20, TimeSpan.FromSeconds(30), "every shard to complete 20 writes");
        var frozenAt = clock.Elapsed;
        cluster.Faults.Isolate(frozenStore, cluster.Stores);
        cluster.Frozen.Freeze(frozenStore);

        // The frozen leader's shard serves again: a write that started after the freeze completes.
        await Eventually.WaitAsync(() => Task.FromResult(done[frozenShard].Any(op => op.Start > frozenAt)), ok => ok, TimeSpan.FromSeconds(30), "a write to the frozen leader's shard");
        var recovered = done[frozenShard].Where(op => op.Start > frozenAt).Min(op => op.End);
        await Task.Delay(TimeSpan.FromSeconds(2)); // load through the rest of the freeze
        var thawedAt = clock.Elapsed;
        var held = cluster.Frozen.Held;
        cluster.Frozen.Thaw();
        cluster.Faults.Heal();
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var frozenFor = thawedAt - frozenAt;
        output.WriteLine("frozen shard's first writes ending after the freeze (start, end, ms from the freeze): " + string.Join("; ", done[frozenShard].Where(op => op.End > frozenAt).OrderBy(op => op.End).Take(6).Select(op => $"{(op.Start - frozenAt).TotalMilliseconds:F0}..{(op.End - frozenAt).TotalMilliseconds:F0}")));
        output.WriteLine($"store {frozenStore} frozen for {frozenFor.TotalMilliseconds:F0} ms; shard {frozenShard} served again {(recovered - frozenAt).TotalMilliseconds:F0} ms after the freeze; {held.Count} requests reached the frozen store: {string.Join("; ", held)}");
        foreach (var (shard, ops) in done)
        {
            var ends = ops.Select(op => op.End).Where(t => t >= frozenAt && t <= thawedAt).Order().ToArray();
            var gaps = ends.Zip(ends.Skip(1), (a, b) => b - a).Append(ends.Length > 0 ? ends[0] - frozenAt : frozenFor).ToArray();
            var before = ops.Count(op => op.End < frozenAt) / frozenAt.TotalSeconds;
            output.WriteLine($"shard {shard}: {before:F0} writes/s before the freeze, {ends.Length / frozenFor.TotalSeconds:F0} during; longest wait for a completion {gaps.Max().TotalMilliseconds:F0} ms");
            if (shard != frozenShard)
            {
                // Had its writers waited on the frozen store (a shared lock, a refresh, a route), a gap of at least
                // an attempt timeout would show here.
                Assert.True(ends.Length > 0, $"shard {shard} completed nothing while store {frozenStore} was frozen");
                Assert.True(gaps.Max() < attemptTimeout, $"shard {shard} waited {gaps.Max().TotalMilliseconds:F0} ms for a completion while store {frozenStore} was frozen");
            }
        }

        // At most: each writer of the frozen shard once (before the first timeout made the store suspect), plus one
        // probe per attempt timeout of the freeze. Retrying it on every attempt would far exceed this. The silos' own
        // calls to the controller group's replica there are not the client's and follow their own client's rules.
        var fromClients = held.Where(r => !r.ToSystemGroup).ToArray();
        int bound = WritersPerShard + (int)(frozenFor / attemptTimeout) + 1;
        Assert.True(fromClients.Length <= bound, $"{fromClients.Length} client requests reached the frozen store in {frozenFor.TotalMilliseconds:F0} ms; at most {bound} expected: {string.Join("; ", fromClients)}");
        Assert.True(recovered - frozenAt < TimeSpan.FromSeconds(10), $"shard {frozenShard} served again only {(recovered - frozenAt).TotalMilliseconds:F0} ms after the freeze");
    }

    private static string[] KeysIn(ShardMap map, ShardDescriptor shard, int count, int writer)
    {
        // The bootstrap layout splits on the first key byte; a key starting with the range's first byte (as a char,
        // which UTF-8 encodes to a first byte at least as large) falls in the shard, as the map confirms.
        char first = shard.Range.Start.Length == 0 ? '0' : (char)shard.Range.Start[0];
        var keys = Enumerable.Range(0, count).Select(i => $"{first}frozen-w{writer}-{i}").ToArray();
        Assert.All(keys, key => Assert.Equal(shard.Id, map.FindShard(Encoding.UTF8.GetBytes(key)).Id));
        return keys;
    }
}
