using System.Text.Json;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>The controller on an in-process cluster: the committed map, store liveness, and its leader's death.</summary>
public sealed class ControllerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_killed_store_is_marked_down_after_the_timeout_and_up_again_after_restart()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var status = await WaitForStoresAsync(cluster, view => view.Stores.Length == 3 && view.Stores.All(s => s.State == StoreState.Up && s.LastHeartbeatAgeMs is not null), "every store up and heartbeating");

        // The map is the controller's: seeded from the bootstrap layout, version 1.
        Assert.Equal(1, status.Controller!.MapVersion);
        Assert.Equal(status.Map.Shards.Select(s => s.Id), status.Controller.Shards.Select(s => s.Id));
        Assert.All(status.Controller.Stores, s => Assert.Equal(2, s.Replicas));

        var victim = new StoreId(2);
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(victim));
        status = await WaitForStoresAsync(cluster, view => view.Stores.Single(s => s.Id == victim).State == StoreState.Down, $"store {victim} to be marked down");
        output.WriteLine(ClusterStatusJson.Write(status));
        using (var json = JsonDocument.Parse(ClusterStatusJson.Write(status)))
        {
            var stores = json.RootElement.GetProperty("stores").EnumerateArray().ToList();
            Assert.Equal("down", stores.Single(s => s.GetProperty("id").GetInt32() == victim.Value).GetProperty("state").GetString());
            Assert.Equal("up", stores.Single(s => s.GetProperty("id").GetInt32() == 1).GetProperty("state").GetString());
            Assert.True(json.RootElement.GetProperty("controller").GetProperty("leader").ValueKind == JsonValueKind.Number);
            Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("operations").ValueKind);
        }

        // The others stay up: they keep heartbeating.
        Assert.All(status.Controller!.Stores.Where(s => s.Id != victim), s => Assert.Equal(StoreState.Up, s.State));

        await cluster.RestartStoreAsync(victim);
        await WaitForStoresAsync(cluster, view => view.Stores.Single(s => s.Id == victim).State == StoreState.Up, $"store {victim} to be marked up again");
    }

    [Fact]
    public async Task The_map_and_the_view_survive_the_controller_leaders_death()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        await cluster.Store.PutAsync("before", "1");
        var leader = await TimestampOracleTests.WaitForControllerLeaderAsync(cluster, s => s != new StoreId(1));
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));

        // Every silo's map grain reads the controller group's committed map. Each probe is bounded: one sent through
        // the killed silo's gateway before the client noticed its death is otherwise awaited for Orleans' 30 s
        // response timeout, longer than the whole wait (seen once on a branch).
        var map = await Eventually.WaitAsync(
            () => cluster.Cluster.Client.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync().WaitAsync(TimeSpan.FromSeconds(3)),
            m => m.Shards.Length == 2,
            TimeSpan.FromSeconds(20),
            "the shard map");
        Assert.Equal(1, map.Version);
        await cluster.Store.PutAsync("after", "2");
        Assert.Equal("1", await cluster.Store.GetStringAsync("before"));

        var newLeader = await TimestampOracleTests.WaitForControllerLeaderAsync(cluster, s => s != leader);
        Assert.NotEqual(leader, newLeader);
    }

    private static Task<ClusterStatus> WaitForStoresAsync(TestNoKvCluster cluster, Func<ControllerView, bool> condition, string what) =>
        Eventually.WaitAsync(
            () => cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            status => status.Controller is { } view && condition(view),
            TimeSpan.FromSeconds(40),
            what);
}
