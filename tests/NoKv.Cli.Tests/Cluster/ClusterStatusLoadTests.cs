using System.Text.Json;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Telemetry;
using NoKv.Cli.Commands;
using NoKv.Client.Admin;
using Xunit;

namespace NoKv.Cli.Tests.Cluster;

/// <summary>
/// `nokv cluster status` shows what the controller learned from heartbeats: each shard's key estimate beside its size
/// and rates, and every store's hot keys, hottest first, in the text and in the JSON (keys "keys" and "hot_keys").
/// </summary>
public sealed class ClusterStatusLoadTests
{
    [Fact]
    public void Shard_key_estimates_and_each_stores_hot_keys_are_shown_in_text_and_json()
    {
        var status = Status();

        string text = ClusterCommands.Render(status);
        Assert.Contains("KEYS", text, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+1\s+2\s+12\.5\s+40\.0\s+3\.0\s+123456\r?\n", text);
        Assert.Matches(@"\n\s+2\s+-\s+0\.0\s+0\.0\s+-\s+-\r?\n", text);
        int hottest = text.IndexOf("\"user/9\"", StringComparison.Ordinal);
        int cooler = text.IndexOf("\"user/1\"", StringComparison.Ordinal);
        Assert.True(hottest > 0 && cooler > hottest, text);

        using var doc = JsonDocument.Parse(ClusterStatusJson.Write(status));
        var shards = doc.RootElement.GetProperty("shards");
        Assert.Equal(123456, shards[0].GetProperty("keys").GetInt64());
        Assert.Equal(JsonValueKind.Null, shards[1].GetProperty("keys").ValueKind);
        var hot = doc.RootElement.GetProperty("hot_keys").EnumerateArray().ToArray();
        Assert.Equal(["757365722F39", "757365722F31", "757365722F32"], hot.Select(h => h.GetProperty("key").GetString() ?? "").ToArray());
        Assert.Equal([3, 2, 2], hot.Select(h => h.GetProperty("store").GetInt32()).ToArray());
        Assert.Equal(900.5, hot[0].GetProperty("requests_per_sec").GetDouble());
        Assert.Equal(1, hot[0].GetProperty("shard").GetInt64());
    }

    private static ClusterStatus Status()
    {
        var one = new ShardDescriptor(new ShardId(1), new KeyRange([], [0x80]), 1, 1, [new PeerDescriptor(257, new StoreId(2), PeerRole.Voter)]);
        var two = new ShardDescriptor(new ShardId(2), new KeyRange([0x80], []), 1, 1, [new PeerDescriptor(513, new StoreId(3), PeerRole.Voter)]);
        var map = new ShardMap(3, [one, two], [new StoreDescriptor(new StoreId(2), "S2", true), new StoreDescriptor(new StoreId(3), "S3", true)]);
        HotKeyReport Hot(string key, double rate) => new() { Shard = 1, Key = System.Text.Encoding.ASCII.GetBytes(key), RequestsPerSecond = rate };
        StoreView Store(int id, HotKeyReport[]? hot) =>
            new(new StoreId(id), "S" + id, StoreState.Up, 0, 0, 0, 100, 1, 1, 0, 0, 0, HotKeys: hot);
        var view = new ControllerView(
            new StoreId(2),
            "S2",
            3,
            [one, two],
            [new ShardLoad(one.Id, new StoreId(2), 12.5, 40, 3L << 20, 123456), new ShardLoad(two.Id, null, 0, 0, null, null)],
            [Store(2, [Hot("user/1", 50), Hot("user/2", 20)]), Store(3, [Hot("user/9", 900.5)])],
            [],
            0,
            [new StoreId(2)]);
        return new ClusterStatus(map, []) { Controller = view };
    }
}
