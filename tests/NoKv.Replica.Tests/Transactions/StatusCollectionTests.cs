using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Replica.Mvcc;
using NoKv.Replica.Tests.Core;
using NoKv.Storage;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// Collection of finished transactions' status rows (docs/transactions.md, "GC") in one real replica core
/// (<see cref="ScriptedGroup"/>), the test playing the controller: it hands the core, as the cluster's
/// status-collection point, the lock-free point the core itself reported (the minimum over a one-shard cluster).
/// </summary>
public sealed class StatusCollectionTests
{
    private const long TtlMs = 3_000;
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    private int _answered;

    private static ReplicaOptions Options() => new()
    {
        ElectionTicks = 10,
        HeartbeatTicks = 2,
        RequestTimeout = TimeSpan.FromSeconds(3),
        GcInterval = TimeSpan.FromSeconds(2),
        GcLifetime = Lifetime,
        GcSliceKeys = 2,
        Hibernate = false,
    };

    [Fact]
    public void Status_rows_are_collected_only_once_the_cluster_point_passes_them_and_stay_decided_afterwards()
    {
        using var group = Leader();
        long committedTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, committedTs, "a", "a", "b").Code);
        long commitTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Commit(group, committedTs, commitTs, "a", "a", "b").Code);
        long rolledBackTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, rolledBackTs, "c", "c").Code);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Rollback, StartTs = rolledBackTs, PrimaryKey = Key("c"), Keys = [Key("c")] }).Code);
        Assert.Equal(2, StatusRows(group));

        // Past the lifetime, a round with no cluster point yet (the controller has not heard from every shard): the
        // shard reports its lock-free point, but keeps every status row.
        group.NowMs += (long)Lifetime.TotalMilliseconds * 2;
        RunRound(group);
        var report = group.Core.LockFree!;
        Assert.Equal(1, report.Epoch);
        Assert.True(report.Point > rolledBackTs, $"report {report.Point} is not past the finished transactions");
        Assert.Equal(2, StatusRows(group));

        // The controller publishes the minimum over every shard: here, this shard's report.
        group.StatusCollectionPoint = report.Point;
        RunRound(group);
        Assert.Equal(0, StatusRows(group));
        Assert.Equal(2, group.Core.StatusRowsCollected);

        // Afterwards nothing is decided again, and nothing is answered wrongly: a retried commit of the committed one
        // is "no longer known" (not "rolled back"); a check of the rolled-back one is "unknown" (no lock of it exists;
        // nothing is recorded); its delayed prewrite is refused below the lock floor and locks nothing.
        ulong before = group.Core.LastIndex;
        var retried = Commit(group, committedTs, commitTs, "a", "a");
        Assert.Equal(NoKvErrorCode.SnapshotTooOld, retried.Code);
        var check = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.CheckStatus, StartTs = rolledBackTs, PrimaryKey = Key("c"), RollbackIfAbsent = true });
        Assert.Equal((NoKvErrorCode.Ok, TxnStatus.Unknown), (check.Code, check.Status));
        var late = Prewrite(group, rolledBackTs, "c", "c");
        Assert.Equal(NoKvErrorCode.SnapshotTooOld, late.Code);
        Assert.Equal(0, StatusRows(group));
        Assert.Null(LockRow(group, "c"));
        Assert.Equal("a", Read(group, "a"));
        Assert.Null(Read(group, "c"));
        Assert.True(group.Core.LastIndex - before <= 2, "answers about collected transactions wrote entries beyond the refused commands");
    }

    [Fact]
    public void A_dead_clients_secondary_lock_holds_the_point_below_it_and_is_rolled_forward_never_back()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, startTs, "p", "p", "s").Code);
        long commitTs = Timestamp(group);
        // The client commits the primary and dies before its secondary.
        Assert.Equal(NoKvErrorCode.Ok, Commit(group, startTs, commitTs, "p", "p").Code);
        Assert.NotNull(LockRow(group, "s"));

        // The cluster point is whatever the shard reports; a round that meets the lock must report a point at or below
        // the lock's start, or the next round would drop the status row its resolution needs.
        group.NowMs += (long)Lifetime.TotalMilliseconds * 2;
        RunRound(group);
        var first = group.Core.LockFree!;
        Assert.True(first.Point <= startTs, $"the shard reported {first.Point} above its lock at {startTs}");
        group.StatusCollectionPoint = first.Point;

        // The round resolved the lock through the primary (here, in the same shard): rolled forward at the commit.
        Settle(group);
        Assert.Equal(1, group.Core.GcResolvedLocks);
        Assert.Null(LockRow(group, "s"));
        Assert.Equal(1, StatusRows(group));
        RunRound(group);
        Assert.Equal(1, StatusRows(group));

        var second = group.Core.LockFree!;
        Assert.True(second.Point > startTs);
        group.StatusCollectionPoint = second.Point;
        RunRound(group);
        Assert.Equal(0, StatusRows(group));
        Assert.Equal("s", Read(group, "s"));
        Assert.Equal("p", Read(group, "p"));
        var snapshot = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Get, StartTs = Timestamp(group), Key = Key("s") });
        Assert.Equal("s", Encoding.UTF8.GetString(snapshot.Value!));
    }

    [Fact]
    public void A_lock_whose_primary_cannot_be_asked_stalls_the_point_until_it_can_and_is_then_resolved_as_the_primary_says()
    {
        // This shard holds [a, m); the primary "x" lives in another shard, which the host plays.
        using var group = Leader(new KeyRange(Key("a"), Key("m")));
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, startTs, "x", "b").Code);
        long commitTs = Timestamp(group);

        group.NowMs += (long)Lifetime.TotalMilliseconds * 2;
        for (int round = 0; round < 3; round++)
        {
            RunRound(group);
            Settle(group);
            Assert.True(group.Core.LockFree!.Point <= startTs, $"round {round} reported {group.Core.LockFree.Point} above a lock it could not resolve");
            Assert.NotNull(LockRow(group, "b"));
        }

        Assert.Contains(group.RemoteAsks, a => a.StartTs == startTs && a.PrimaryKey.AsSpan().SequenceEqual(Key("x")));

        // The primary's shard answers again: committed.
        group.RemoteStatus = (_, ts) => ts == startTs ? new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Committed, CommitTs = commitTs } : null;
        RunRound(group);
        Settle(group);
        Assert.Null(LockRow(group, "b"));
        Assert.Equal("b", Read(group, "b"));
        RunRound(group);
        Assert.True(group.Core.LockFree!.Point > startTs);
    }

    [Fact]
    public void A_prewrite_below_the_lock_floor_is_refused_on_every_shard_even_if_its_transaction_was_never_decided()
    {
        using var group = Leader();
        long oldStart = Timestamp(group);
        group.NowMs += (long)Lifetime.TotalMilliseconds * 2;
        RunRound(group);
        Assert.True(group.Core.LockFree!.Point > oldStart);

        Assert.Equal(NoKvErrorCode.SnapshotTooOld, Prewrite(group, oldStart, "q", "q").Code);
        Assert.Equal(NoKvErrorCode.SnapshotTooOld, Send(group, new TxnRequest
        {
            Shard = group.Shard.Id,
            Epoch = 1,
            Op = TxnOp.OnePhase,
            StartTs = oldStart,
            Mutations = [new TxnMutation(Key("q"), Key("q"))],
        }).Code);
        Assert.Null(LockRow(group, "q"));

        // A transaction inside the lifetime is not refused.
        Assert.Equal(NoKvErrorCode.Ok, Prewrite(group, Timestamp(group), "q", "q").Code);
    }

    private ScriptedGroup Leader(KeyRange? range = null)
    {
        var group = new ScriptedGroup(Options(), range: range);
        group.ElectSelf();
        _answered = group.Sent.Count;
        return group;
    }

    private static byte[] Key(string s) => Encoding.UTF8.GetBytes(s);

    private static long Timestamp(ScriptedGroup group) => group.Run(group.GetOracleTimestampsAsync(1));

    private void RunRound(ScriptedGroup group)
    {
        long before = group.Core.GcRoundsCompleted;
        for (int i = 0; i < 500 && group.Core.GcRoundsCompleted == before; i++)
        {
            group.Tick();
            _answered = group.AnswerAll(_answered);
        }

        Assert.True(group.Core.GcRoundsCompleted > before, "no GC round completed within 500 ticks");
    }

    private void Settle(ScriptedGroup group)
    {
        for (int i = 0; i < 50; i++)
        {
            group.Settle();
            _answered = group.AnswerAll(_answered);
            group.Tick();
        }
    }

    private TxnResponse Prewrite(ScriptedGroup group, long startTs, string primary, params string[] keys) => Send(group, new TxnRequest
    {
        Shard = group.Shard.Id,
        Epoch = 1,
        Op = TxnOp.Prewrite,
        StartTs = startTs,
        PrimaryKey = Key(primary),
        LockTtlMs = TtlMs,
        Mutations = keys.Select(k => new TxnMutation(Key(k), Key(k))).ToArray(),
    });

    private TxnResponse Commit(ScriptedGroup group, long startTs, long commitTs, string primary, params string[] keys) => Send(group, new TxnRequest
    {
        Shard = group.Shard.Id,
        Epoch = 1,
        Op = TxnOp.Commit,
        StartTs = startTs,
        CommitTs = commitTs,
        PrimaryKey = Key(primary),
        Keys = keys.Select(Key).ToArray(),
    });

    private string? Read(ScriptedGroup group, string key)
    {
        var task = group.Core.GetAsync(new ReadRequest { Shard = group.Shard.Id, Epoch = 1, Key = Key(key) });
        for (int i = 0; i < 100 && !task.IsCompleted; i++)
        {
            group.Settle();
            _answered = group.AnswerAll(_answered);
        }

        var read = group.Run(task);
        Assert.Equal(NoKvErrorCode.Ok, read.Code);
        return read.Value is null ? null : Encoding.UTF8.GetString(read.Value);
    }

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

    private static byte[]? LockRow(ScriptedGroup group, string key) => group.Database.Get(MvccKeys.Lock(KeySpace.DataPrefixOf(group.Shard.Id), Key(key)));

    private static int StatusRows(ScriptedGroup group)
    {
        var (start, end) = KeySpace.DataRange(KeySpace.DataPrefixOf(group.Shard.Id), [], []);
        using var it = group.Database.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        int count = 0;
        for (it.Seek(start); it.Valid; it.Next())
        {
            if (MvccKeys.TryParse(it.Key, out _, out byte tag, out _) && tag == MvccKeys.StatusTag)
            {
                count++;
            }
        }

        return count;
    }
}
