using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Core;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// Check-status at a primary's leader (docs/transactions.md, "Resolution"): answers that decide nothing (committed,
/// rolled back, live, unknown) come from a read index without a log entry; only a rollback it must record is
/// proposed, and once recorded it is final.
/// </summary>
public sealed class CheckStatusTests
{
    private const long TtlMs = 3_000;
    private static readonly byte[] Primary = "primary"u8.ToArray();
    private int _answered;

    private static ReplicaOptions Options() => new()
    {
        ElectionTicks = 10,
        HeartbeatTicks = 2,
        RequestTimeout = TimeSpan.FromSeconds(3),
    };

    [Fact]
    public void A_committed_primary_is_reported_without_a_log_entry()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, startTs).Code);
        long commitTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = startTs, CommitTs = commitTs, PrimaryKey = Primary, Keys = [Primary] }).Code);

        ulong before = group.Core.AppliedIndex;
        var status = CheckStatus(group, startTs, rollbackIfAbsent: true);

        Assert.Equal((NoKvErrorCode.Ok, TxnStatus.Committed, commitTs), (status.Code, status.Status, status.CommitTs));
        Assert.Equal(before, group.Core.AppliedIndex);
        Assert.Equal(before, LastIndex(group));
    }

    [Fact]
    public void A_live_primary_lock_and_an_unknown_transaction_are_reported_without_a_log_entry()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, startTs).Code);

        ulong before = group.Core.AppliedIndex;
        var live = CheckStatus(group, startTs, rollbackIfAbsent: true);
        var unknown = CheckStatus(group, startTs + 1, rollbackIfAbsent: false);

        Assert.Equal(TxnStatus.Locked, live.Status);
        Assert.Equal(startTs, live.Lock!.StartTs);
        Assert.Equal(TxnStatus.Unknown, unknown.Status);
        Assert.Equal(before, LastIndex(group));
    }

    [Fact]
    public void An_expired_primary_lock_is_rolled_back_through_the_log_and_stays_rolled_back()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, startTs).Code);
        group.NowMs += TtlMs + 1;

        ulong before = LastIndex(group);
        var decided = CheckStatus(group, startTs, rollbackIfAbsent: false);
        Assert.Equal(TxnStatus.RolledBack, decided.Status);
        Assert.True(LastIndex(group) > before, "the rollback of an expired lock was not recorded in the log");

        // Recorded: answered by a read from now on, and the transaction can no longer commit.
        ulong recorded = LastIndex(group);
        Assert.Equal(TxnStatus.RolledBack, CheckStatus(group, startTs, rollbackIfAbsent: false).Status);
        Assert.Equal(recorded, LastIndex(group));
        var commit = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = startTs, CommitTs = Timestamp(group), PrimaryKey = Primary, Keys = [Primary] });
        Assert.Equal(NoKvErrorCode.TxnAborted, commit.Code);
    }

    [Fact]
    public void An_absent_primary_is_recorded_rolled_back_only_when_the_caller_asks()
    {
        using var group = Leader();
        long startTs = Timestamp(group);

        ulong before = LastIndex(group);
        Assert.Equal(TxnStatus.RolledBack, CheckStatus(group, startTs, rollbackIfAbsent: true).Status);
        Assert.True(LastIndex(group) > before, "the rollback of an absent primary was not recorded in the log");

        // Its delayed prewrite must now fail rather than lock.
        var late = Prewrite(group, startTs);
        Assert.Equal(NoKvErrorCode.TxnAborted, late.Code);
    }

    private ScriptedGroup Leader()
    {
        var group = new ScriptedGroup(Options());
        group.ElectSelf();
        _answered = group.Sent.Count;
        return group;
    }

    private static long Timestamp(ScriptedGroup group) => group.Run(group.GetOracleTimestampsAsync(1));

    private static ulong LastIndex(ScriptedGroup group) => group.Core.LastIndex;

    private TxnResponse Prewrite(ScriptedGroup group, long startTs) => Send(group, new TxnRequest
    {
        Shard = group.Shard.Id,
        Epoch = 1,
        Op = TxnOp.Prewrite,
        StartTs = startTs,
        PrimaryKey = Primary,
        LockTtlMs = TtlMs,
        Mutations = [new TxnMutation(Primary, Encoding.UTF8.GetBytes("v"))],
    });

    private TxnResponse CheckStatus(ScriptedGroup group, long startTs, bool rollbackIfAbsent) => Send(group, new TxnRequest
    {
        Shard = group.Shard.Id,
        Epoch = 1,
        Op = TxnOp.CheckStatus,
        StartTs = startTs,
        PrimaryKey = Primary,
        RollbackIfAbsent = rollbackIfAbsent,
    });

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
