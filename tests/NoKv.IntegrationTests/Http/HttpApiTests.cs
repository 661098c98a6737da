using System.Net;
using System.Text.Json;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;

namespace NoKv.IntegrationTests.Http;

/// <summary>
/// The silo's JSON API (docs/dashboard.md) against three real silo processes: every silo describes the whole cluster
/// (stores, shards with leaders and Raft state), client traffic shows up in its counters, indexes and series, and its
/// endpoints answer in the documented shapes.
/// </summary>
[Collection(HttpClusterCollection.Name)]
public sealed class HttpApiTests(HttpClusterFixture cluster)
{
    private static readonly string[] Roles = ["leader", "follower", "candidate", "pre-candidate", "learner"];

    [Fact]
    public async Task Any_silo_describes_every_store_and_every_shard_with_its_leader_and_raft_state()
    {
        foreach (int served in new[] { 1, 3 })
        {
            var overview = await Eventually.WaitAsync(
                () => cluster.GetJsonAsync(served, "api/overview"),
                o => o.GetProperty("shards").EnumerateArray().All(s => s.GetProperty("leader").ValueKind == JsonValueKind.Number),
                TimeSpan.FromSeconds(30),
                $"store {served}'s overview to show a leader for every shard");
            Assert.Equal("http-test", overview.GetProperty("clusterId").GetString());
            Assert.Equal(served, overview.GetProperty("servedBy").GetInt32());

            var stores = overview.GetProperty("stores").EnumerateArray().ToList();
            Assert.Equal([1, 2, 3], stores.Select(s => s.GetProperty("id").GetInt32()));
            foreach (var store in stores)
            {
                Assert.Equal("up", store.GetProperty("state").GetString());
                Assert.True(store.GetProperty("replicas").GetInt32() > 0);
                Assert.True(store.GetProperty("uptimeSeconds").GetDouble() > 0);
                Assert.Equal(JsonValueKind.Object, store.GetProperty("engine").ValueKind);
                Assert.Equal(7, store.GetProperty("engine").GetProperty("levelFiles").GetArrayLength());
            }

            var shards = overview.GetProperty("shards").EnumerateArray().ToList();
            Assert.Equal(overview.GetProperty("totals").GetProperty("shards").GetInt32(), shards.Count);
            Assert.Equal("", shards[0].GetProperty("start").GetString());
            Assert.Equal("", shards[^1].GetProperty("end").GetString());
            for (int i = 1; i < shards.Count; i++)
            {
                // Ranges tile the key space.
                Assert.Equal(shards[i - 1].GetProperty("end").GetString(), shards[i].GetProperty("start").GetString());
            }

            foreach (var shard in shards)
            {
                int leader = shard.GetProperty("leader").GetInt32();
                Assert.True(shard.GetProperty("term").GetInt64() >= 1);
                Assert.True(shard.GetProperty("commitIndex").GetInt64() >= 1);
                var replicas = shard.GetProperty("replicas").EnumerateArray().ToList();
                Assert.Equal(3, replicas.Count);
                Assert.Single(replicas, r => r.GetProperty("role").GetString() == "leader");
                Assert.Equal(leader, replicas.Single(r => r.GetProperty("role").GetString() == "leader").GetProperty("store").GetInt32());
                Assert.All(replicas, r =>
                {
                    Assert.Contains(r.GetProperty("role").GetString(), Roles);
                    Assert.True(r.GetProperty("peer").GetUInt64() > 0);
                    Assert.True(r.GetProperty("lastIndex").GetInt64() >= r.GetProperty("appliedIndex").GetInt64() - 0);
                });
            }
        }
    }

    [Fact]
    public async Task Client_writes_raise_the_request_totals_raft_indexes_and_throughput_series()
    {
        var before = await cluster.GetJsonAsync(2, "api/overview");
        long requestsBefore = before.GetProperty("totals").GetProperty("requests").GetInt64();
        long commitBefore = before.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("commitIndex").GetInt64());

        const int keys = 240;
        await cluster.WriteAndReadAsync("api", keys);

        var after = await Eventually.WaitAsync(
            () => cluster.GetJsonAsync(2, "api/overview"),
            o => o.GetProperty("totals").GetProperty("requests").GetInt64() >= requestsBefore + (2 * keys)
                && o.GetProperty("series").EnumerateArray().Any(s => s.GetProperty("writesPerSecond").GetDouble() > 0 && s.GetProperty("writeP99Ms").GetDouble() > 0),
            TimeSpan.FromSeconds(20),
            "the writes and reads to show in the totals and the series");
        long commitAfter = after.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("commitIndex").GetInt64());
        Assert.True(commitAfter >= commitBefore + keys, $"commit indexes grew by {commitAfter - commitBefore}, expected at least {keys}");
        Assert.True(after.GetProperty("series").EnumerateArray().Any(s => s.GetProperty("getsPerSecond").GetDouble() > 0), "no get shows in the series");

        long writes = after.GetProperty("stores").EnumerateArray().Sum(s => s.GetProperty("writes").GetInt64());
        long writesBefore = before.GetProperty("stores").EnumerateArray().Sum(s => s.GetProperty("writes").GetInt64());
        Assert.True(writes - writesBefore >= keys, $"stores counted {writes - writesBefore} writes, expected at least {keys}");
        var userBytes = after.GetProperty("stores").EnumerateArray().Sum(s => s.GetProperty("engine").GetProperty("userBytesWritten").GetInt64());
        Assert.True(userBytes > keys * 10, $"engines report {userBytes} user bytes written");
    }

    [Fact]
    public async Task A_key_served_over_and_over_is_listed_as_hot_with_its_shard_and_the_controller_reports_its_operations()
    {
        // The leaders report the last complete window (about 10 s): keep the key hot until one has covered it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JsonElement hot = default;
        while (hot.ValueKind == JsonValueKind.Undefined)
        {
            Assert.True(DateTime.UtcNow < deadline, "the hot key never showed up in /api/controller");
            await cluster.HammerAsync("hot-api-key", 200);
            var controller = await cluster.GetJsonAsync(3, "api/controller");
            hot = controller.GetProperty("hotKeys").EnumerateArray().FirstOrDefault(k => k.GetProperty("key").GetString() == "hot-api-key");

            // The controller answered (no error) with its operations in the documented shape.
            Assert.Equal(JsonValueKind.Null, controller.GetProperty("operationsError").ValueKind);
            foreach (var op in controller.GetProperty("operations").EnumerateArray())
            {
                Assert.Contains(op.GetProperty("kind").GetString(), new[] { "re_replicate", "move_replica", "split", "merge", "transfer_leader" });
                Assert.True(op.GetProperty("shard").GetInt64() > 0);
                Assert.True(op.GetProperty("stepSinceUnixMs").GetInt64() >= op.GetProperty("createdUnixMs").GetInt64());
            }
        }

        // Its shard is the one whose range holds the key.
        var shards = (await cluster.GetJsonAsync(1, "api/shards")).EnumerateArray().ToList();
        byte[] key = "hot-api-key"u8.ToArray();
        var owner = shards.Single(s => Unescape(s.GetProperty("start").GetString()!).AsSpan().SequenceCompareTo(key) <= 0
            && (s.GetProperty("end").GetString() is not { Length: > 0 } end || key.AsSpan().SequenceCompareTo(Unescape(end)) < 0));
        Assert.Equal(owner.GetProperty("id").GetInt64(), hot.GetProperty("shard").GetInt64());
        Assert.True(hot.GetProperty("requestsPerSecond").GetDouble() > 0);
    }

    [Fact]
    public async Task Endpoints_answer_in_the_documented_shapes()
    {
        var cluster1 = await cluster.GetJsonAsync(1, "api/cluster");
        Assert.Equal("http-test", cluster1.GetProperty("clusterId").GetString());
        Assert.Equal(3, cluster1.GetProperty("totals").GetProperty("stores").GetInt32());
        // The controller group (shard 0) is reported apart from the user shards, with its leader.
        var controller = cluster1.GetProperty("controller");
        Assert.Equal(JsonValueKind.Number, controller.GetProperty("leader").ValueKind);
        Assert.Equal(3, controller.GetProperty("replicas").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, controller.GetProperty("operations").ValueKind);
        Assert.Equal(JsonValueKind.Array, controller.GetProperty("hotKeys").ValueKind);
        Assert.DoesNotContain((await cluster.GetJsonAsync(1, "api/shards")).EnumerateArray(), s => s.GetProperty("id").GetInt64() == 0);

        Assert.Equal(3, (await cluster.GetJsonAsync(2, "api/stores")).GetArrayLength());
        Assert.True((await cluster.GetJsonAsync(2, "api/shards")).GetArrayLength() > 0);

        var series = await cluster.GetJsonAsync(3, "api/series");
        Assert.Equal(JsonValueKind.Array, series.GetProperty("cluster").ValueKind);
        Assert.Equal([1, 2, 3], series.GetProperty("stores").EnumerateArray().Select(s => s.GetProperty("id").GetInt32()));

        // Elections happened at start; the events name them, newest first, and "since" filters by time.
        var events = await cluster.GetJsonAsync(1, "api/events");
        var all = events.EnumerateArray().ToList();
        Assert.Contains(all, e => e.GetProperty("kind").GetString() == "leader_elected");
        var times = all.Select(e => e.GetProperty("unixMs").GetInt64()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
        long newest = times[0];
        Assert.Equal(0, (await cluster.GetJsonAsync(1, $"api/events?since={newest}")).GetArrayLength());

        using var missing = await cluster.Http.GetAsync(new Uri(cluster.Base(1), "api/no-such-thing"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("docs/dashboard.md", await missing.Content.ReadAsStringAsync());

        using var page = await cluster.Http.GetAsync(cluster.Base(1));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("NoKV dashboard", await page.Content.ReadAsStringAsync());
        using var logo = await cluster.Http.GetAsync(new Uri(cluster.Base(2), "logo.svg"));
        Assert.Equal("image/svg+xml", logo.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The API's key text back to bytes: printable ASCII as is, \xNN for any other byte.</summary>
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                bytes.Add((byte)text[i]);
            }
        }

        return bytes.ToArray();
    }
}
