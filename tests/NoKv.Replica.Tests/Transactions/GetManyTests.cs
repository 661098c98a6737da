using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Core;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// <see cref="TxnOp.GetMany"/>: one snapshot read of several keys of a shard (the client sends one per shard instead of
/// one per key, docs/transactions.md "Reads"). It must answer exactly what one <see cref="TxnOp.Get"/> per key would,
/// stop at a lock the reader must resolve, and refuse a request naming a key outside the shard without reading.
/// </summary>
public sealed class GetManyTests
{
    private const long TtlMs = 3_000;
    private static readonly byte[] A = "a"u8.ToArray();
    private static readonly byte[] B = "b"u8.ToArray();
    private static readonly byte[] Absent = "c"u8.ToArray();
    private int _answered;

    [Fact]
    public void Answers_each_key_at_the_snapshot_in_request_order()
    {
        using var group = Leader(KeyRange.All);
        long first = Commit(group, (A, "a1"), (B, "b1"));
        long snapshot = Timestamp(group);
        Commit(group, (A, "a2"));
        long later = Timestamp(group);

        var old = GetMany(group, snapshot, B, Absent, A);
        Assert.Equal(NoKvErrorCode.Ok, old.Code);
        Assert.Equal("b1,-,a1", Strings(old.Values!));

        var now = GetMany(group, later, A, B);
        Assert.Equal("a2,b1", Strings(now.Values!));

        // Before the first commit nothing existed.
        Assert.Equal("-,-", Strings(GetMany(group, first - 1, A, B).Values!));

        // The same answers as one Get per key.
        foreach (var (key, ts) in new[] { (A, snapshot), (B, snapshot), (A, later) })
        {
            var single = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Get, StartTs = ts, Key = key });
            var many = GetMany(group, ts, key);
            Assert.Equal(Strings([single.Value]), Strings(many.Values!));
        }
    }

    [Fact]
    public void A_lock_of_an_earlier_transaction_is_reported_and_the_read_answers_once_it_committed()
    {
        using var group = Leader(KeyRange.All);
        Commit(group, (A, "a1"), (B, "b1"));
        long writer = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Prewrite, StartTs = writer, PrimaryKey = B, LockTtlMs = TtlMs, Mutations = [new TxnMutation(B, "b2"u8.ToArray())] }).Code);
        long reader = Timestamp(group);

        var locked = GetMany(group, reader, A, B);
        Assert.Equal(NoKvErrorCode.KeyLocked, locked.Code);
        Assert.Equal((writer, B), (locked.Lock!.StartTs, locked.Lock.Key));
        Assert.Null(locked.Values);

        // A reader that started before the lock ignores it: the transaction commits above its snapshot.
        var before = GetMany(group, writer - 1, A, B);
        Assert.Equal("a1,b1", Strings(before.Values!));

        long commitTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = writer, CommitTs = commitTs, PrimaryKey = B, Keys = [B] }).Code);
        Assert.Equal("a1,b1", Strings(GetMany(group, reader, A, B).Values!));
        Assert.Equal("a1,b2", Strings(GetMany(group, Timestamp(group), A, B).Values!));
    }

    [Fact]
    public void A_key_outside_the_shard_or_no_key_is_refused()
    {
        using var group = Leader(new KeyRange([], "m"u8.ToArray()));
        Commit(group, (A, "a1"));
        long ts = Timestamp(group);

        Assert.Equal(NoKvErrorCode.WrongShard, GetMany(group, ts, A, "z"u8.ToArray()).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, GetMany(group, ts).Code);
        Assert.Equal(NoKvErrorCode.EmptyKey, GetMany(group, ts, A, []).Code);
        Assert.Equal("a1", Strings(GetMany(group, ts, A).Values!));
    }

    /// <summary>The values joined by commas, "-" for absent.</summary>
    private static string Strings(byte[]?[] values) => string.Join(",", Array.ConvertAll(values, v => v is null ? "-" : Encoding.UTF8.GetString(v)));

    private TxnResponse GetMany(ScriptedGroup group, long ts, params byte[][] keys) =>
        Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.GetMany, StartTs = ts, Keys = keys });

    /// <summary>A two-phase commit of <paramref name="writes"/> in this shard (primary = the first); returns its commit timestamp.</summary>
    private long Commit(ScriptedGroup group, params (byte[] Key, string Value)[] writes)
    {
        long startTs = Timestamp(group);
        var primary = writes[0].Key;
        var mutations = Array.ConvertAll(writes, w => new TxnMutation(w.Key, Encoding.UTF8.GetBytes(w.Value)));
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Prewrite, StartTs = startTs, PrimaryKey = primary, LockTtlMs = TtlMs, Mutations = mutations }).Code);
        long commitTs = Timestamp(group);
        var keys = Array.ConvertAll(writes, w => w.Key);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = startTs, CommitTs = commitTs, PrimaryKey = primary, Keys = keys }).Code);
        return commitTs;
    }

    private ScriptedGroup Leader(KeyRange range)
    {
        var group = new ScriptedGroup(new ReplicaOptions { ElectionTicks = 10, HeartbeatTicks = 2, RequestTimeout = TimeSpan.FromSeconds(3) }, range: range);
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
