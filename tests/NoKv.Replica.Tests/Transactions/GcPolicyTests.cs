using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Replica.Mvcc;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Tests.Core;
using NoKv.Storage;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// The leader's version GC policy in one real replica core (<see cref="ScriptedGroup"/>): rounds start on their own
/// every GC interval, walk the shard in slices, keep what a read inside the lifetime can see, and raise the safe point
/// so older snapshot reads are refused rather than answered wrongly.
/// </summary>
public sealed class GcPolicyTests
{
    private static readonly byte[] Key = "k"u8.ToArray();
    private int _answered;

    private static ReplicaOptions Options(int sliceKeys = 1024) => new()
    {
        ElectionTicks = 10,
        HeartbeatTicks = 2,
        RequestTimeout = TimeSpan.FromSeconds(3),
        GcInterval = TimeSpan.FromSeconds(2),
        GcLifetime = TimeSpan.FromMinutes(10),
        GcSliceKeys = sliceKeys,
    };

    [Fact]
    public void Overwritten_plain_writes_are_collected_down_to_the_newest_version_without_being_asked()
    {
        using var group = new ScriptedGroup(Options());
        group.ElectSelf();
        _answered = group.Sent.Count;
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(NoKvErrorCode.Ok, Complete(group, group.Core.WriteAsync(Put(Key, $"v{i}"))).Code);
        }

        Assert.Equal(5, Versions(group, Key));

        // Plain writes are stamped inside oracle blocks (docs/transactions.md), so they age like any version: a round
        // once the lifetime has passed collects all but the newest.
        group.NowMs += (long)Options().GcLifetime.TotalMilliseconds + 1;
        RunGcRound(group);

        Assert.Equal(1, Versions(group, Key));
        var read = Complete(group, group.Core.GetAsync(new ReadRequest { Shard = new ShardId(1), Epoch = 1, Key = Key }));
        Assert.Equal("v4", Encoding.UTF8.GetString(read.Value!));
    }

    [Fact]
    public void Versions_a_transaction_inside_the_lifetime_can_read_are_kept_and_older_snapshots_are_refused()
    {
        using var group = new ScriptedGroup(Options());
        group.ElectSelf();
        _answered = group.Sent.Count;
        Write(group, "old-1", "old-2", "old-3");
        const long oldSnapshot = 1;

        // A transaction started twice the lifetime later (an oracle timestamp) reads the key: the shard's floor rises to
        // it, and the plain writes after it are stamped above it.
        group.NowMs += 2 * (long)Options().GcLifetime.TotalMilliseconds;
        long startTs = group.Run(group.GetOracleTimestampsAsync(1));
        Assert.Equal("old-3", Encoding.UTF8.GetString(TxnGet(group, startTs).Value!));
        Write(group, "new-1", "new-2", "new-3");
        Assert.Equal(6, Versions(group, Key));

        // Now less the lifetime lies between the old writes and the start: that is the safe point.
        RunGcRound(group);

        // The safe point is the clock less the lifetime: below the transaction's snapshot, above the early stamps.
        // Kept: old-3 (what a read at the safe point sees) and every version above it.
        Assert.Equal(4, Versions(group, Key));
        Assert.True(group.Core.LastGcSafePoint < startTs);
        Assert.Equal("old-3", Encoding.UTF8.GetString(TxnGet(group, startTs).Value!));
        Assert.Equal(NoKvErrorCode.SnapshotTooOld, TxnGet(group, oldSnapshot).Code);
    }

    [Fact]
    public void A_round_walks_the_whole_shard_in_slices()
    {
        using var group = new ScriptedGroup(Options(sliceKeys: 3));
        group.ElectSelf();
        _answered = group.Sent.Count;
        var keys = Enumerable.Range(0, 10).Select(i => Encoding.UTF8.GetBytes($"key{i:D2}")).ToArray();
        foreach (var key in keys)
        {
            Complete(group, group.Core.WriteAsync(Put(key, "a")));
            Complete(group, group.Core.WriteAsync(Put(key, "b")));
        }

        ulong before = group.Core.AppliedIndex;
        group.NowMs += (long)Options().GcLifetime.TotalMilliseconds + 1;
        RunGcRound(group);

        Assert.All(keys, key => Assert.Equal(1, Versions(group, key)));
        // Four slices of at most three keys each: one entry per slice, nothing proposed at once for the whole shard.
        Assert.True(group.Core.AppliedIndex - before >= 4, $"applied {group.Core.AppliedIndex - before} entries");
    }

    [Fact]
    public void A_follower_proposes_no_collection()
    {
        using var group = new ScriptedGroup(Options());
        for (int i = 0; i < 100; i++)
        {
            group.Tick();
        }

        Assert.False(group.Core.IsLeader);
        Assert.Equal(0, group.Core.LastGcSafePoint);
        Assert.DoesNotContain(group.Sent, m => m.Entries.Length > 0);
    }

    private void RunGcRound(ScriptedGroup group)
    {
        long before = group.Core.LastGcSafePoint;
        for (int i = 0; i < 500 && group.Core.LastGcSafePoint == before; i++)
        {
            group.Tick();
            _answered = group.AnswerAll(_answered);
        }

        Assert.True(group.Core.LastGcSafePoint > before, "no GC round completed within 500 ticks");
    }

    private void Write(ScriptedGroup group, params string[] values)
    {
        foreach (var value in values)
        {
            Assert.Equal(NoKvErrorCode.Ok, Complete(group, group.Core.WriteAsync(Put(Key, value))).Code);
        }
    }

    private TxnResponse TxnGet(ScriptedGroup group, long ts) =>
        Complete(group, group.Core.TxnAsync(new TxnRequest { Shard = new ShardId(1), Epoch = 1, Op = TxnOp.Get, StartTs = ts, Key = Key }));

    private T Complete<T>(ScriptedGroup group, Task<T> task)
    {
        for (int i = 0; i < 100 && !task.IsCompleted; i++)
        {
            group.Settle();
            _answered = group.AnswerAll(_answered);
        }

        return group.Run(task);
    }

    private static int Versions(ScriptedGroup group, byte[] userKey)
    {
        var (start, end) = KeySpace.DataRange(userKey, [.. userKey, 0]);
        using var it = group.Database.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        int count = 0;
        for (it.Seek(start); it.Valid; it.Next())
        {
            if (MvccKeys.TryParse(it.Key, out int baseLength, out byte tag, out _) && tag == MvccKeys.VersionTag
                && MvccKeys.UserKey(it.Key, baseLength).AsSpan().SequenceEqual(userKey))
            {
                count++;
            }
        }

        return count;
    }

    private static WriteRequest Put(byte[] key, string value) => new()
    {
        Shard = new ShardId(1),
        Epoch = 1,
        Kind = WriteKind.Put,
        Key = key,
        Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.Empty, 0),
    };
}
