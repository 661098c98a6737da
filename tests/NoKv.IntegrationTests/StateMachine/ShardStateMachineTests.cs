using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Raft.Messages;
using NoKv.Storage;
using Xunit;

namespace NoKv.IntegrationTests.StateMachine;

/// <summary>The replicated state machine alone, on a real engine: command semantics and exactly-once dedupe.</summary>
public sealed class ShardStateMachineTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "nokv-sm-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Database _db;
    private readonly ReplicaState _shard = new(1, new ShardDescriptor(new ShardId(1), KeyRange.All, 1, 1, [new PeerDescriptor(1, new StoreId(1), PeerRole.Voter)]));
    private ulong _index;

    public ShardStateMachineTests() => _db = Database.Open(_path);

    [Fact]
    public async Task CompareAndSwapPutDeleteAndDuplicateSequences()
    {
        var sm = new ShardStateMachine(_db, _shard);
        var session = Guid.NewGuid();
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.Put, 1, new(session, 1), B("k"), B("1"), null)));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(sm, new KvCommand(WriteKind.CompareAndSwap, 1, new(session, 2), B("k"), B("3"), B("2"))));
        Assert.Equal("1", S(sm.Get(B("k"))));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.CompareAndSwap, 1, new(session, 3), B("k"), B("3"), B("1"))));
        Assert.Equal("3", S(sm.Get(B("k"))));

        // The same (session, sequence) again returns the recorded outcome and changes nothing.
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.CompareAndSwap, 1, new(session, 3), B("k"), B("4"), B("1"))));
        Assert.Equal("3", S(sm.Get(B("k"))));

        // An older sequence is refused.
        Assert.Equal((NoKvErrorCode.StaleSequence, false), await ApplyAsync(sm, new KvCommand(WriteKind.Put, 1, new(session, 2), B("k"), B("old"), null)));
        Assert.Equal("3", S(sm.Get(B("k"))));

        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.CompareAndSwap, 1, new(session, 4), B("absent"), B("x"), null)));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.Delete, 1, new(session, 5), B("k"), null, null)));
        Assert.Null(sm.Get(B("k")));

        // A wrong epoch is not applied.
        Assert.Equal((NoKvErrorCode.WrongShard, false), await ApplyAsync(sm, new KvCommand(WriteKind.Put, 2, new(session, 6), B("k"), B("x"), null)));
        Assert.Null(sm.Get(B("k")));

        // State and applied index survive a reload (what a restarted replica sees).
        var reloaded = new ShardStateMachine(_db, _shard);
        Assert.Equal(sm.AppliedIndex, reloaded.AppliedIndex);
        Assert.Equal("x", S(reloaded.Get(B("absent"))));
    }

    [Fact]
    public async Task ExpiredSessionsAreForgottenAndRecentOnesKept()
    {
        var sm = new ShardStateMachine(_db, _shard);
        Guid idle = Guid.NewGuid(), active = Guid.NewGuid();
        await ApplyAsync(sm, new KvCommand(WriteKind.Put, 1, new(idle, 1), B("a"), B("1"), null, ProposedAtMs: 1_000));
        await ApplyAsync(sm, new KvCommand(WriteKind.Put, 1, new(active, 1), B("b"), B("1"), null, ProposedAtMs: 5_000));

        _index++;
        var outcomes = new List<ApplyOutcome>();
        await sm.ApplyAsync(new[] { new Entry(1, _index, KvCommand.EncodeExpireSessions(3_000)) }, outcomes);
        Assert.Empty(outcomes);
        Assert.Equal(_index, sm.AppliedIndex);

        // The active session still deduplicates: a replay of its last write is not applied again.
        await ApplyAsync(sm, new KvCommand(WriteKind.CompareAndSwap, 1, new(active, 2), B("b"), B("2"), B("1"), ProposedAtMs: 6_000));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.CompareAndSwap, 1, new(active, 2), B("b"), B("3"), B("1"), ProposedAtMs: 6_000)));
        Assert.Equal("2", S(sm.Get(B("b"))));

        // The idle session's row is gone: its old sequence is no longer recognised as already applied.
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(sm, new KvCommand(WriteKind.Put, 1, new(idle, 1), B("a"), B("again"), null, ProposedAtMs: 7_000)));
        Assert.Equal("again", S(sm.Get(B("a"))));
    }

    private async Task<(NoKvErrorCode, bool)> ApplyAsync(ShardStateMachine sm, KvCommand command)
    {
        var outcomes = new List<ApplyOutcome>();
        _index++;
        await sm.ApplyAsync(new[] { new Entry(1, _index, command.Encode()) }, outcomes);
        var outcome = Assert.Single(outcomes);
        return (outcome.Code, outcome.Succeeded);
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_path, recursive: true);
    }
}
