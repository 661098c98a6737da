using System.Text.Json;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Client.Admin;
using Xunit;

namespace NoKv.Client.Tests.Admin;

public sealed class ClusterStatusJsonTests
{
    private static readonly ShardId Shard = new(1);

    [Fact]
    public void The_json_follows_the_newest_descriptor_a_replica_reports_and_says_what_it_could_not_reach()
    {
        var bootstrap = new ShardDescriptor(Shard, new KeyRange([], [0x80]), 1, 1, [Peer(1, 1), Peer(2, 2), Peer(3, 3)]);
        var grown = new ShardDescriptor(Shard, bootstrap.Range, 1, 2, [.. bootstrap.Peers, new PeerDescriptor(900, new StoreId(4), PeerRole.Learner)]);
        var rest = new ShardDescriptor(new ShardId(2), new KeyRange([0x80], []), 3, 1, [Peer(4, 1)]);
        var map = new ShardMap(7, [bootstrap, rest],
        [
            new StoreDescriptor(new StoreId(1), "S1", true),
            new StoreDescriptor(new StoreId(2), "S2", true),
            new StoreDescriptor(new StoreId(3), null, false),
        ]);
        var status = new ClusterStatus(map,
        [
            new ReplicaReport(new ReplicaId(Shard, new StoreId(1)), Status(1, ReplicaRole.Leader, grown, halt: null), null),
            new ReplicaReport(new ReplicaId(Shard, new StoreId(2)), Status(2, ReplicaRole.Follower, bootstrap, halt: "entry 9 cannot be applied"), null),
            new ReplicaReport(new ReplicaId(Shard, new StoreId(3)), null, "no answer within 3000 ms"),
        ]);

        using var doc = JsonDocument.Parse(ClusterStatusJson.Write(status));
        var root = doc.RootElement;

        Assert.Equal(7, root.GetProperty("map_version").GetInt64());
        var stores = root.GetProperty("stores").EnumerateArray().ToArray();
        Assert.Equal(new[] { "up", "up", "down" }, stores.Select(s => s.GetProperty("state").GetString() ?? "").ToArray());
        Assert.Equal(JsonValueKind.Null, stores[2].GetProperty("silo").ValueKind);

        var shard = root.GetProperty("shards")[0];
        Assert.Equal("", shard.GetProperty("start").GetString());
        Assert.Equal("80", shard.GetProperty("end").GetString());
        Assert.Equal(2, shard.GetProperty("conf_version").GetInt64());
        Assert.Equal(1, shard.GetProperty("leader").GetInt32());

        var replicas = shard.GetProperty("replicas").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 3, 4], replicas.Select(r => r.GetProperty("store").GetInt32()).ToArray());
        Assert.Equal("leader", replicas[0].GetProperty("raft_role").GetString());
        Assert.Equal(((ulong)Shard.Value << 8) + 1, replicas[0].GetProperty("peer").GetUInt64());
        Assert.Equal("entry 9 cannot be applied", replicas[1].GetProperty("apply_halt").GetString());
        Assert.Equal("no answer within 3000 ms", replicas[2].GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, replicas[2].GetProperty("term").ValueKind);
        Assert.Equal("learner", replicas[3].GetProperty("role").GetString());
        Assert.Equal("not queried", replicas[3].GetProperty("error").GetString());

        var other = root.GetProperty("shards")[1];
        Assert.Equal(JsonValueKind.Null, other.GetProperty("end").ValueKind);
        Assert.Equal(JsonValueKind.Null, other.GetProperty("leader").ValueKind);
        Assert.Equal(3, other.GetProperty("epoch").GetInt64());
    }

    private static PeerDescriptor Peer(int store, int slot) => new(((ulong)Shard.Value << 8) + (uint)slot, new StoreId(store), PeerRole.Voter);

    private static ReplicaStatus Status(int store, ReplicaRole role, ShardDescriptor descriptor, string? halt) => new()
    {
        Replica = new ReplicaId(descriptor.Id, new StoreId(store)),
        Role = role,
        Term = 4,
        CommitIndex = 10,
        AppliedIndex = 10,
        LastIndex = 11,
        FirstIndex = 1,
        Epoch = descriptor.Epoch,
        SiloAddress = "S" + store,
        PeerId = descriptor.PeerOn(new StoreId(store))!.Value.PeerId,
        Descriptor = descriptor,
        ApplyHalt = halt,
    };
}
