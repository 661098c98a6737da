using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Raft.Messages;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// A snapshot served just before a merge prepare applies stays unchanged after the merge rolls back. The floor entry that
/// carries the read's promise can land after the prepare in the log, where the frozen source refuses it like every entry
/// but the rollback; a stamped write proposed after the rollback must then carry a floor entry of its own. Found by the
/// simulation soak (seeds 2019, 2051, 2058, 2143, 2192, 2199 of the snapshot-reader scenario): the write got a stamp below
/// the served snapshot, and the same read at the same timestamp answered a newer value.
/// </summary>
public sealed class ReadFloorMergeRollbackTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("k");

    [Fact]
    public void A_write_after_a_merge_rollback_never_lands_below_a_snapshot_served_before_the_prepare_applied()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;
        answered = Acknowledge(group, group.Core.WriteAsync(Put("1")), answered);

        // A timestamp above the block the leader primed with: the read raises the in-memory floor to it.
        long readTs = group.Run(group.GetOracleTimestampsAsync(1)) + 10_000;
        var read = group.Core.TxnAsync(Get(readTs));
        group.Settle();

        // The prepare, then a stamped write: the write's floor entry (carrying readTs) lands after the prepare.
        var prepare = group.Core.PrepareMergeAsync(1, 1, new ShardId(2));
        group.Settle();
        var frozenWrite = group.Core.WriteAsync(Put("2"));
        group.Settle();

        // Only the heartbeats are answered: the read index is the commit index before the prepare, so the read is
        // served from the shard as it was, while the prepare and the entries behind it are not committed yet.
        answered = AnswerHeartbeats(group, answered);
        var served = group.Run(read);
        Assert.Equal(NoKvErrorCode.Ok, served.Code);
        Assert.Equal("1", Encoding.UTF8.GetString(served.Value!));

        // Now the prepare applies and freezes the shard; the floor entry and the write behind it are refused.
        answered = group.AnswerAll(answered);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(prepare).Code);
        Assert.NotEqual(NoKvErrorCode.Ok, group.Run(frozenWrite).Code);
        var merging = Assert.NotNull(group.Core.Merging);

        answered = Acknowledge(group, group.Core.RollbackMergeAsync(1, merging.PrepareIndex), answered);
        Assert.Null(group.Core.Merging);
        answered = Acknowledge(group, group.Core.WriteAsync(Put("3")), answered);

        var again = Drive(group, group.Core.TxnAsync(Get(readTs)), ref answered);
        Assert.Equal(NoKvErrorCode.Ok, again.Code);
        Assert.Equal("1", Encoding.UTF8.GetString(again.Value!));
    }

    private static int Acknowledge(ScriptedGroup group, Task<WriteResponse> write, int answered)
    {
        Assert.Equal(NoKvErrorCode.Ok, Drive(group, write, ref answered).Code);
        return answered;
    }

    /// <summary>Runs <paramref name="task"/> while answering every request the core sends, as healthy followers would.</summary>
    private static T Drive<T>(ScriptedGroup group, Task<T> task, ref int answered)
    {
        for (int i = 0; i < 100 && !task.IsCompleted; i++)
        {
            group.Settle();
            answered = group.AnswerAll(answered);
        }

        return group.Run(task);
    }

    /// <summary>Answers the heartbeats sent since <paramref name="from"/> and nothing else; returns the new position.</summary>
    private static int AnswerHeartbeats(ScriptedGroup group, int from)
    {
        int end = group.Sent.Count;
        for (int i = from; i < end; i++)
        {
            var m = group.Sent[i];
            if (m.Type == MessageType.Heartbeat)
            {
                group.Deliver(new Message { Type = MessageType.HeartbeatResponse, From = m.To, To = m.From, Term = m.Term, Index = m.Index, Context = m.Context });
            }
        }

        return from;
    }

    private static TxnRequest Get(long ts) => new() { Shard = new ShardId(1), Epoch = 1, Op = TxnOp.Get, StartTs = ts, Key = Key };

    private static WriteRequest Put(string value) => new()
    {
        Shard = new ShardId(1),
        Epoch = 1,
        Kind = WriteKind.Put,
        Key = Key,
        Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.Empty, 0),
    };
}
