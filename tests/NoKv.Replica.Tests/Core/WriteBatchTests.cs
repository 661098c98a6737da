using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// <see cref="NoKv.Replica.Core.ReplicaCore.WriteBatchAsync"/>: a batch of writes enters the log in request order in
/// one Raft round, and each write is checked and answered on its own.
/// </summary>
public sealed class WriteBatchTests
{
    [Fact]
    public void A_batch_is_proposed_in_request_order_in_one_append_and_answered_per_write()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;

        // One write first, so the leader's read floor is in place and nothing but the batch is proposed below.
        var first = group.Core.WriteAsync(Put("k", "0"));
        group.Settle();
        answered = group.AnswerAll(answered);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(first).Code);

        int sentBefore = group.Sent.Count;
        var tooLong = new string('x', group.Options.MaxKeyBytes + 1);
        var batch = group.Core.WriteBatchAsync([Put("k", "1"), Put("k", "2"), Put(tooLong, "bad"), Put("other", "x"), Put("k", "3")]);
        group.Settle();

        // Every follower got the four valid writes as one Append, in request order.
        ulong peerB = group.PeerIdOf(ScriptedGroup.PeerB);
        var appends = group.Sent.Skip(sentBefore).Where(m => m.To == peerB && m.Type == MessageType.Append && m.Entries.Length > 0).ToList();
        Assert.Single(appends);
        Assert.Equal(4, appends[0].Entries.Length);

        Assert.False(batch.IsCompleted, "answered before a quorum persisted the writes");
        group.AnswerAll(answered);
        var responses = group.Run(batch);

        Assert.Equal([NoKvErrorCode.Ok, NoKvErrorCode.Ok, NoKvErrorCode.KeyTooLarge, NoKvErrorCode.Ok, NoKvErrorCode.Ok], responses.Select(r => r.Code));
        long[] indexes = [responses[0].Index, responses[1].Index, responses[3].Index, responses[4].Index];
        Assert.Equal(Enumerable.Range(0, 4).Select(i => indexes[0] + i), indexes);
        Assert.Equal(appends[0].Entries.Span[0].Index, (ulong)indexes[0]);

        // The last write of the key in the batch is the value.
        int beforeRead = group.Sent.Count;
        var read = group.Core.GetAsync(new ReadRequest { Shard = new ShardId(1), Epoch = 1, Key = Encoding.UTF8.GetBytes("k") });
        group.Settle();
        group.AnswerAll(beforeRead);
        Assert.Equal("3", Encoding.UTF8.GetString(group.Run(read).Value!));
    }

    [Fact]
    public void A_batch_sent_to_a_follower_is_refused_write_by_write_and_changes_nothing()
    {
        using var group = new ScriptedGroup();
        var responses = group.Run(group.Core.WriteBatchAsync([Put("a", "1"), Put("b", "2")]));

        Assert.All(responses, r => Assert.Equal(NoKvErrorCode.NotLeader, r.Code));
        Assert.DoesNotContain(group.Sent, m => m.Type == MessageType.Append);
    }

    [Fact]
    public void A_null_entry_refuses_the_whole_batch_before_anything_is_proposed()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int sentBefore = group.Sent.Count;

        var refused = Assert.ThrowsAsync<ArgumentException>(() => group.Core.WriteBatchAsync([Put("a", "1"), null!]));
        group.Run(refused);
        group.Settle();
        Assert.DoesNotContain(group.Sent.Skip(sentBefore), m => m.Type == MessageType.Append && m.Entries.Length > 0);
    }

    private static WriteRequest Put(string key, string value) => new()
    {
        Shard = new ShardId(1),
        Epoch = 1,
        Kind = WriteKind.Put,
        Key = Encoding.UTF8.GetBytes(key),
        Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.Empty, 0),
    };
}
