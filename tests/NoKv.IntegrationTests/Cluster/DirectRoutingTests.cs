using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>
/// The client sends every request straight to the silo hosting the target replica (through that silo's store
/// service), falls back to plain grain calls when that silo dies, and goes direct again once it is back.
/// </summary>
public sealed class DirectRoutingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RequestsGoStraightToTheReplicasSiloAndDoSoAgainAfterItRestarts()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var status = await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        var store = cluster.Store;
        var first = KeysIn(status.Map, status.Map.Shards[0], 10);
        var second = KeysIn(status.Map, status.Map.Shards[1], 10);

        // Routes are discovered in the background after the first request.
        await WaitUntilDirectAsync(cluster, second[0]);

        cluster.Paths.Reset();
        foreach (var key in first.Concat(second))
        {
            await store.PutAsync(key, "v-" + key);
            Assert.Equal("v-" + key, await store.GetStringAsync(key));
        }

        Assert.True(await store.CompareAndSwapAsync(first[0], "v-" + first[0], "swapped"));
        int scanned = 0;
        await foreach (var unused in store.ScanStringsAsync("", "", 100))
        {
            scanned++;
        }

        Assert.Equal(first.Length + second.Length, scanned);

        // 40 puts and gets, a CAS, and at least one scan page per shard; retries could only add to Direct.
        output.WriteLine($"before the kill: {cluster.Paths}");
        Assert.True(cluster.Paths.Other == 0, $"requests not taken straight to the replica's silo: {cluster.Paths}");
        Assert.True(cluster.Paths.Direct >= 43, $"too few requests counted: {cluster.Paths}");

        // Kill the leader of the second shard: its route dies with it, the client falls back and keeps serving.
        var leader = TestNoKvCluster.LeaderOf(status, status.Map.Shards[1].Id)!.Value;
        Assert.NotEqual(new StoreId(1), leader);
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));
        await store.PutAsync(second[0], "after-kill");
        Assert.Equal("after-kill", await store.GetStringAsync(second[0]));

        // Back up, the store leads its shard again (preferred leader) and the client finds its new silo.
        await cluster.RestartStoreAsync(leader);
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        await WaitUntilDirectAsync(cluster, second[1]);
        cluster.Paths.Reset();
        foreach (var key in second)
        {
            await store.PutAsync(key, "restarted-" + key);
        }

        output.WriteLine($"after the restart: {cluster.Paths}");
        Assert.True(cluster.Paths.Other == 0, $"requests not taken straight to the replica's silo after the restart: {cluster.Paths}");
        Assert.True(cluster.Paths.Direct >= second.Length, $"too few requests counted: {cluster.Paths}");
        Assert.Equal("restarted-" + second[1], await store.GetStringAsync(second[1]));
    }

    [Fact]
    public async Task WithDirectRoutingOffRequestsArePlainGrainCalls()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 1, client: o => o.DirectRouting = false);
        for (int i = 0; i < 10; i++)
        {
            await cluster.Store.PutAsync($"k{i}", "v");
        }

        // The counter tells the paths apart: with the routes off no request may come from a store service.
        Assert.Equal(0, cluster.Paths.Direct);
        Assert.True(cluster.Paths.Other >= 10, cluster.Paths.ToString());
    }

    private static async Task WaitUntilDirectAsync(TestNoKvCluster cluster, string key)
    {
        await Eventually.WaitAsync(
            async () =>
            {
                cluster.Paths.Reset();
                await cluster.Store.PutAsync(key, "probe");
                return (cluster.Paths.Direct, cluster.Paths.Other, Paths: cluster.Paths.ToString());
            },
            counts => counts.Direct > 0 && counts.Other == 0,
            TimeSpan.FromSeconds(20),
            $"a write of '{key}' to go straight to its replica's silo");
    }

    private static string[] KeysIn(ShardMap map, ShardDescriptor shard, int count)
    {
        // The bootstrap layout splits on the first key byte; a key starting with the range's first byte (as a
        // char, which UTF-8 encodes to a first byte at least as large) falls in the shard, as the map confirms.
        char first = shard.Range.Start.Length == 0 ? '0' : (char)shard.Range.Start[0];
        var keys = Enumerable.Range(0, count).Select(i => $"{first}route{i:D2}").ToArray();
        Assert.All(keys, key => Assert.Equal(shard.Id, map.FindShard(Encoding.UTF8.GetBytes(key)).Id));
        return keys;
    }
}
