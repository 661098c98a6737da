using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Commands;
using NoKv.Replica.Core;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Transactions;

/// <summary>
/// The primary's shard committed in one phase (<see cref="TxnOp.OnePhasePrimary"/>, docs/transactions.md, "Primary in
/// one phase"): a prewrite answers the leader's read floor after its locks applied; the primary's command stamps its
/// commit above the minimum it is given and records the outcome where the other locks send their resolvers; a
/// transaction recorded rolled back first is refused. One shard plays both parts here (the client uses two).
/// </summary>
public sealed class OnePhasePrimaryTests
{
    private const long TtlMs = 3_000;
    private int _answered;

    [Fact]
    public void A_prewrite_answers_a_floor_at_or_above_every_snapshot_read_served_before_its_locks()
    {
        using var group = Leader();
        long startTs = Timestamp(group);

        // A snapshot far above the oracle's clock: the floor must report it, not the block the leader primed with.
        long late = Timestamp(group) + 1_000_000;
        Assert.Null(Read(group, "s", late));

        var prewritten = Send(group, Prewrite(group, startTs, "p", ("s", "v")));
        Assert.Equal(NoKvErrorCode.Ok, prewritten.Code);
        Assert.True(prewritten.MinCommitTs >= late, $"the prewrite answered floor {prewritten.MinCommitTs}, below the snapshot {late} served before its lock");
    }

    [Fact]
    public void Commits_above_the_minimum_given_records_the_outcome_at_the_primary_and_answers_a_retry_alike()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, Prewrite(group, startTs, "p", ("s", "secondary"))).Code);

        long minimum = Timestamp(group);
        var primary = OnePhasePrimary(group, startTs, minimum, ("p", "primary"));
        var committed = Send(group, primary);
        Assert.Equal(NoKvErrorCode.Ok, committed.Code);
        Assert.True(committed.CommitTs > minimum, $"committed at {committed.CommitTs}, not above the minimum {minimum}");

        // The secondary's resolvers ask the primary: committed, at that timestamp.
        var status = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.CheckStatus, StartTs = startTs, PrimaryKey = Key("p") });
        Assert.Equal(TxnStatus.Committed, status.Status);
        Assert.Equal(committed.CommitTs, status.CommitTs);

        // A retry (lost answer) is answered from the recorded outcome, not judged against its own version.
        var again = Send(group, primary);
        Assert.Equal(NoKvErrorCode.Ok, again.Code);
        Assert.Equal(committed.CommitTs, again.CommitTs);

        Assert.Equal(NoKvErrorCode.Ok, Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Commit, StartTs = startTs, CommitTs = committed.CommitTs, Keys = [Key("s")] }).Code);
        long after = committed.CommitTs + 1;
        Assert.Equal("primary", Read(group, "p", after));
        Assert.Equal("secondary", Read(group, "s", after));
        Assert.Null(Read(group, "p", committed.CommitTs - 1));
    }

    [Fact]
    public void A_transaction_recorded_rolled_back_before_its_primary_arrives_is_refused_and_writes_nothing()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        Assert.Equal(NoKvErrorCode.Ok, Send(group, Prewrite(group, startTs, "p", ("s", "secondary"))).Code);

        // A resolver that saw the secondary's lock expire records the absent primary rolled back.
        var decided = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.CheckStatus, StartTs = startTs, PrimaryKey = Key("p"), RollbackIfAbsent = true });
        Assert.Equal(TxnStatus.RolledBack, decided.Status);

        var late = Send(group, OnePhasePrimary(group, startTs, Timestamp(group), ("p", "primary")));
        Assert.Equal(NoKvErrorCode.TxnAborted, late.Code);
        Assert.Null(Read(group, "p", Timestamp(group)));
    }

    [Fact]
    public void A_primary_key_other_than_the_first_mutation_is_refused_before_anything_is_proposed()
    {
        using var group = Leader();
        long startTs = Timestamp(group);
        ulong before = group.Core.LastIndex;
        var wrongPrimary = new TxnRequest
        {
            Shard = group.Shard.Id,
            Epoch = 1,
            Op = TxnOp.OnePhasePrimary,
            StartTs = startTs,
            PrimaryKey = Key("q"),
            MinCommitTs = startTs,
            Mutations = [new TxnMutation(Key("p"), Key("v")), new TxnMutation(Key("q"), Key("v"))],
        };
        Assert.Equal(NoKvErrorCode.InvalidRange, Send(group, wrongPrimary).Code);
        Assert.Equal(before, group.Core.LastIndex);
    }

    [Fact]
    public void A_leader_whose_cluster_is_below_the_format_level_of_type_30_refuses_it_before_anything_is_proposed()
    {
        // A store of an older build would stop at the entry (docs/format-commands.md, "Gate").
        using var group = Leader();
        group.ClusterFormatLevel = CommandFormatLevel.Base;
        long startTs = Timestamp(group);
        ulong before = group.Core.LastIndex;
        var primary = OnePhasePrimary(group, startTs, startTs, ("p", "primary"));
        var refused = Send(group, primary);
        Assert.Equal(NoKvErrorCode.CommandNotEnabled, refused.Code);
        Assert.Equal(before, group.Core.LastIndex);
        Assert.Null(Read(group, "p", Timestamp(group)));

        // Once every store reads it, the same request commits.
        group.ClusterFormatLevel = CommandFormatLevel.PrimaryInOnePhase;
        var committed = Send(group, primary);
        Assert.Equal(NoKvErrorCode.Ok, committed.Code);
        Assert.Equal("primary", Read(group, "p", Timestamp(group)));
    }

    private static byte[] Key(string key) => Encoding.UTF8.GetBytes(key);

    private static TxnRequest Prewrite(ScriptedGroup group, long startTs, string primary, params (string Key, string Value)[] writes) => new()
    {
        Shard = group.Shard.Id,
        Epoch = 1,
        Op = TxnOp.Prewrite,
        StartTs = startTs,
        PrimaryKey = Key(primary),
        LockTtlMs = TtlMs,
        Mutations = Array.ConvertAll(writes, w => new TxnMutation(Key(w.Key), Key(w.Value))),
    };

    private static TxnRequest OnePhasePrimary(ScriptedGroup group, long startTs, long minCommitTs, params (string Key, string Value)[] writes) => new()
    {
        Shard = group.Shard.Id,
        Epoch = 1,
        Op = TxnOp.OnePhasePrimary,
        StartTs = startTs,
        PrimaryKey = Key(writes[0].Key),
        MinCommitTs = minCommitTs,
        Mutations = Array.ConvertAll(writes, w => new TxnMutation(Key(w.Key), Key(w.Value))),
    };

    private string? Read(ScriptedGroup group, string key, long ts)
    {
        var response = Send(group, new TxnRequest { Shard = group.Shard.Id, Epoch = 1, Op = TxnOp.Get, StartTs = ts, Key = Key(key) });
        Assert.Equal(NoKvErrorCode.Ok, response.Code);
        return response.Value is null ? null : Encoding.UTF8.GetString(response.Value);
    }

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
