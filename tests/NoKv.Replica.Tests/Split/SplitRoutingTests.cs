using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Split;

/// <summary>
/// A replica whose shard split answers a request routed by the old descriptor with WrongShard and the descriptors
/// that now cover the old range (its own, then the shards split off its end), so a client can route at once instead
/// of waiting for the controller's map (docs/replica.md, "Routing after a split").
/// </summary>
public sealed class SplitRoutingTests
{
    [Fact]
    public void After_two_splits_a_request_with_the_old_epoch_learns_the_three_shards_covering_its_old_range()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        Split(group, "m", new ShardId(20), epoch: 1);
        Split(group, "f", new ShardId(30), epoch: 2);

        var answer = group.Run(group.Core.WriteAsync(Put("x", epoch: 1)));

        Assert.Equal(NoKvErrorCode.WrongShard, answer.Code);
        var shards = Assert.IsAssignableFrom<IReplicaResponse>(answer).CurrentShards;
        Assert.NotNull(shards);
        Assert.Equal([1L, 30L, 20L], shards.Select(s => s.Id.Value));
        Assert.Equal(["", "f", "m"], shards.Select(s => Encoding.UTF8.GetString(s.Range.Start)));
        Assert.Equal(["f", "m", ""], shards.Select(s => Encoding.UTF8.GetString(s.Range.End)));
        Assert.Equal([3L, 3L, 2L], shards.Select(s => s.Epoch));
        Assert.Equal(group.Core.Descriptor, shards[0]);
    }

    [Fact]
    public void Reads_and_scans_carry_the_same_descriptors_and_other_errors_carry_none()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        Split(group, "m", new ShardId(20), epoch: 1);

        var read = group.Run(group.Core.GetAsync(new ReadRequest { Shard = new ShardId(1), Epoch = 1, Key = Key("a"), Consistency = ReadConsistency.Linearizable }));
        var scan = group.Run(group.Core.ScanAsync(new ScanRequest { Shard = new ShardId(1), Epoch = 1, Start = Key("a"), End = [], Limit = 10, Consistency = ReadConsistency.Linearizable }));
        int answered = group.Sent.Count;
        var read2 = group.Core.GetAsync(new ReadRequest { Shard = new ShardId(1), Epoch = 2, Key = Key("a"), Consistency = ReadConsistency.Linearizable });
        group.Settle();
        group.AnswerAll(answered);
        var ok = group.Run(read2);

        Assert.Equal(NoKvErrorCode.WrongShard, read.Code);
        Assert.Equal([1L, 20L], read.CurrentShards!.Select(s => s.Id.Value));
        Assert.Equal(NoKvErrorCode.WrongShard, scan.Code);
        Assert.Equal([1L, 20L], scan.CurrentShards!.Select(s => s.Id.Value));
        Assert.Equal(NoKvErrorCode.Ok, ok.Code);
        Assert.Null(ok.CurrentShards);
    }

    [Fact]
    public void A_shard_that_never_split_names_only_itself()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();

        var answer = group.Run(group.Core.WriteAsync(Put("x", epoch: 7)));

        Assert.Equal(NoKvErrorCode.WrongShard, answer.Code);
        Assert.Equal([group.Core.Descriptor], answer.CurrentShards!);
    }

    internal static void Split(ScriptedGroup group, string at, ShardId newShard, long epoch)
    {
        int answered = group.Sent.Count;
        var peers = group.Core.Descriptor.Peers.Select((p, i) => new PeerDescriptor((ulong)(newShard.Value * 100 + i + 1), p.Store, p.Role)).ToArray();
        var split = group.Core.SplitAsync(epoch, Key(at), newShard, peers);
        group.Settle();
        group.AnswerAll(answered);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(split).Code);
    }

    private static WriteRequest Put(string key, long epoch) =>
        new() { Shard = new ShardId(1), Epoch = epoch, Kind = WriteKind.Put, Key = Key(key), Value = Key("v"), Session = new ClientSession(Guid.Empty, 0) };

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);
}
