using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Core;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// <see cref="TxnOp.CommitBatch"/>: the secondary commits of several transactions in one call (the client's
/// <c>SecondaryCommitBatcher</c>). Each commits exactly as its own Commit would, all proposed in one round; a retry is
/// harmless; a batch holding anything but secondary commits of this shard and epoch is refused whole.
/// </summary>
public sealed class CommitBatchTests
{
    private const long TtlMs = 3_000;
    private int _answered;

    [Fact]
    public void Commits_every_transaction_of_the_batch_one_entry_each_and_a_retry_changes_nothing()
    {
        using var group = Leader();
        var (t1, c1) = PrewriteAndCommitPrimary(group, "p1", "s1", "v1");
        var (t2, c2) = PrewriteAndCommitPrimary(group, "p2", "s2", "v2");

        ulong before = group.Core.LastIndex;
        var batch = Batch(group, Commit(group, t1, c1, "s1"), Commit(group, t2, c2, "s2"));
        Assert.Equal(NoKvErrorCode.Ok, Send(group, batch).Code);
        Assert.Equal(before + 2, group.Core.LastIndex);

        long after = Timestamp(group);
        Assert.Equal("v1", Read(group, "s1", after));
        Assert.Equal("v2", Read(group, "s2", after));

        // Sent again (the client retries a batch whose answer was lost): already committed, still Ok, same values.
        Assert.Equal(NoKvErrorCode.Ok, Send(group, batch).Code);
        Assert.Equal("v1", Read(group, "s1", Timestamp(group)));
    }

    [Fact]
    public void A_batch_holding_anything_but_secondary_commits_of_this_shard_and_epoch_is_refused_whole()
    {
        using var group = Leader();
        var (t1, c1) = PrewriteAndCommitPrimary(group, "p1", "s1", "v1");
        var good = Commit(group, t1, c1, "s1");
        ulong before = group.Core.LastIndex;

        var withPrimary = new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = t1, CommitTs = c1, PrimaryKey = Key("p1"), Keys = [Key("p1")] };
        var otherEpoch = new TxnRequest { Shard = group.Shard.Id, Epoch = 2, Op = TxnOp.Commit, StartTs = t1, CommitTs = c1, Keys = [Key("s1")] };
        var notACommit = new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Rollback, StartTs = t1, Keys = [Key("s1")] };
        foreach (var bad in new[] { withPrimary, otherEpoch, notACommit })
        {
            Assert.Equal(NoKvErrorCode.InvalidRange, Send(group, Batch(group, good, bad)).Code);
        }

        Assert.Equal(NoKvErrorCode.InvalidRange, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.CommitBatch, StartTs = t1, Batch = [] }).Code);
        Assert.Equal(before, group.Core.LastIndex);
        Assert.Equal(NoKvErrorCode.KeyLocked, ReadCode(group, "s1", Timestamp(group)));
    }

    private static byte[] Key(string key) => Encoding.UTF8.GetBytes(key);

    private static TxnRequest Commit(ScriptedGroup group, long startTs, long commitTs, string key) =>
        new() { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = startTs, CommitTs = commitTs, Keys = [Key(key)] };

    private static TxnRequest Batch(ScriptedGroup group, params TxnRequest[] commits) =>
        new() { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.CommitBatch, StartTs = commits[0].StartTs, Batch = commits };

    /// <summary>A transaction writing <paramref name="primary"/> and <paramref name="secondary"/>, committed at its primary only.</summary>
    private (long StartTs, long CommitTs) PrewriteAndCommitPrimary(ScriptedGroup group, string primary, string secondary, string value)
    {
        long startTs = Timestamp(group);
        var mutations = new[] { new TxnMutation(Key(primary), Key(value)), new TxnMutation(Key(secondary), Key(value)) };
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Prewrite, StartTs = startTs, PrimaryKey = Key(primary), LockTtlMs = TtlMs, Mutations = mutations }).Code);
        long commitTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = startTs, CommitTs = commitTs, PrimaryKey = Key(primary), Keys = [Key(primary)] }).Code);
        return (startTs, commitTs);
    }

    private string? Read(ScriptedGroup group, string key, long ts)
    {
        var response = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Get, StartTs = ts, Key = Key(key) });
        Assert.Equal(NoKvErrorCode.Ok, response.Code);
        return response.Value is null ? null : Encoding.UTF8.GetString(response.Value);
    }

    private NoKvErrorCode ReadCode(ScriptedGroup group, string key, long ts) =>
        Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Get, StartTs = ts, Key = Key(key) }).Code;

    private ScriptedGroup Leader()
    {
        var group = new ScriptedGroup(new ReplicaOptions { ElectionTicks = 10, HeartbeatTicks = 2, RequestTimeout = TimeSpan.FromSeconds(3) });
        group.ElectSelf();
        _answered = group.Sent.Count;
        return group;
    }

    private static long Timestamp(ScriptedGroup group) => group.Run(group.GetOracleTimestampsAsync(1));

    private TxnResponse Send(ScriptedGroup group, TxnRequest request)
    {
        var task = group.Core.TxnAsync(request);
        for (int i = 0; i < 100 && !task.IsCompleted; i++)
        {
            group.Settle();
            _answered = group.AnswerAll(_answered);
        }

        return group.Run(task);
    }
}
