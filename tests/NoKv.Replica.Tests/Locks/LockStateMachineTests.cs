using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Replica.Tests.Locks;

/// <summary>
/// The lock service's replicated state alone, on a real engine: tokens, FIFO queue, renewals, the leader's expiry
/// decisions, fenced writes, and that all of it survives a reload and travels in snapshots.
/// </summary>
public sealed class LockStateMachineTests : IDisposable
{
    private static readonly Guid A = Guid.NewGuid(), Bee = Guid.NewGuid(), C = Guid.NewGuid();
    private readonly MemFileSystem _fs = new();
    private readonly Database _db;
    private readonly ShardStateMachine _sm;
    private ulong _index;

    public LockStateMachineTests()
    {
        _db = Database.Open("/store", new StorageOptions { FileSystem = _fs, UseMappedReads = false });
        _sm = new ShardStateMachine(_db, State(1));
    }

    [Fact]
    public void Every_grant_takes_the_next_token_and_waiters_are_served_first_come_first_served()
    {
        Assert.Equal((true, 1L), Acquire(A));
        Assert.Equal((false, 1L), Acquire(Bee));               // queued first
        Assert.Equal((false, 2L), Acquire(C));                 // queued second
        Assert.Equal((false, 1L), Acquire(Bee));               // asking again keeps the place
        Assert.Equal((true, 1L), Acquire(A));                  // the holder again: a renewal, same token

        Assert.True(Apply(new LockCommand(CommandType.ReleaseLock, 1, B("job"), A)).Succeeded);
        var record = _sm.ReadLock(B("job"))!;
        Assert.Equal(Bee, record.Holder!.Value.Owner);
        Assert.Equal(2, record.Holder.Value.Token);
        Assert.Equal((true, 2L), Acquire(Bee));                // the granted waiter's next poll reports it

        Assert.True(Apply(new LockCommand(CommandType.ReleaseLock, 1, B("job"), Bee)).Succeeded);
        Assert.Equal(C, _sm.ReadLock(B("job"))!.Holder!.Value.Owner);
        Assert.Equal(3, _sm.ReadLock(B("job"))!.Holder!.Value.Token);

        // Free again, the record keeps its counter: the next holder gets 4, never a token seen before.
        Assert.True(Apply(new LockCommand(CommandType.ReleaseLock, 1, B("job"), C)).Succeeded);
        Assert.Null(_sm.ReadLock(B("job"))!.Holder);
        Assert.Equal((true, 4L), Acquire(A));
    }

    [Fact]
    public void Without_waiting_a_held_lock_answers_busy_and_queues_nobody()
    {
        Acquire(A);
        Assert.Equal((false, 0L), Acquire(Bee, wait: false));
        Assert.Empty(_sm.ReadLock(B("job"))!.Waiters);
    }

    [Fact]
    public void An_expiry_names_the_exact_lease_and_is_void_once_the_holder_renewed()
    {
        Acquire(A);
        Acquire(Bee);
        var seen = _sm.ReadLock(B("job"))!;

        // The holder renews after the leader decided, before the decision applies: the decision is void.
        Assert.True(Apply(new LockCommand(CommandType.RenewLock, 1, B("job"), A, Token: 1)).Succeeded);
        Apply(new LockCommand(CommandType.ExpireLock, 1, B("job"), Token: 1, LeaseSeq: seen.LeaseSeq));
        Assert.Equal(A, _sm.ReadLock(B("job"))!.Holder!.Value.Owner);

        // An expiry of the current lease hands the lock to the next waiter with the next token.
        var current = _sm.ReadLock(B("job"))!;
        Apply(new LockCommand(CommandType.ExpireLock, 1, B("job"), Token: 1, LeaseSeq: current.LeaseSeq));
        Assert.Equal(new LockHolder(Bee, 2, 1000), _sm.ReadLock(B("job"))!.Holder);

        // The former holder can neither renew nor release what it lost.
        Assert.False(Apply(new LockCommand(CommandType.RenewLock, 1, B("job"), A, Token: 1)).Succeeded);
        Assert.False(Apply(new LockCommand(CommandType.ReleaseLock, 1, B("job"), A)).Succeeded);
        Assert.Equal(Bee, _sm.ReadLock(B("job"))!.Holder!.Value.Owner);

        // A renewal must name the holder's token, not only its owner id.
        Assert.False(Apply(new LockCommand(CommandType.RenewLock, 1, B("job"), Bee, Token: 1)).Succeeded);
        Assert.True(Apply(new LockCommand(CommandType.RenewLock, 1, B("job"), Bee, Token: 2)).Succeeded);
    }

    [Fact]
    public void Waiters_leave_the_queue_by_release_or_by_the_leaders_expiry()
    {
        Acquire(A);
        Acquire(Bee);
        Acquire(C);
        Assert.True(Apply(new LockCommand(CommandType.ReleaseLock, 1, B("job"), Bee)).Succeeded);
        Apply(new LockCommand(CommandType.ExpireLockWaiter, 1, B("job"), C));
        Assert.Empty(_sm.ReadLock(B("job"))!.Waiters);

        // Nobody waits now: the holder's release frees the lock.
        Apply(new LockCommand(CommandType.ReleaseLock, 1, B("job"), A));
        Assert.Null(_sm.ReadLock(B("job"))!.Holder);
    }

    [Fact]
    public void A_command_for_another_epoch_changes_nothing()
    {
        var outcome = Apply(new LockCommand(CommandType.AcquireLock, 2, B("job"), A, LeaseMs: 1000, Wait: true));
        Assert.Equal(NoKvErrorCode.WrongShard, outcome.Code);
        Assert.Null(_sm.ReadLock(B("job")));
    }

    [Fact]
    public void A_fenced_write_with_an_older_token_than_seen_is_refused_and_changes_nothing()
    {
        var s1 = Guid.NewGuid();
        var s2 = Guid.NewGuid();
        Assert.Equal((NoKvErrorCode.Ok, true), Write(new FencedWriteCommand(B("job"), 5, Put(s1, 1, "k", "by-5"))));
        Assert.Equal(5, _sm.ReadFence(B("job")));
        Assert.Equal((NoKvErrorCode.Ok, true), Write(new FencedWriteCommand(B("job"), 5, Put(s1, 2, "k", "by-5-again"))));
        Assert.Equal((NoKvErrorCode.Ok, true), Write(new FencedWriteCommand(B("job"), 6, Put(s2, 1, "k", "by-6"))));

        Assert.Equal((NoKvErrorCode.FencedOut, false), Write(new FencedWriteCommand(B("job"), 5, Put(Guid.NewGuid(), 1, "other", "late"))));
        Assert.Null(_sm.Get(B("other")));
        Assert.Equal("by-6", S(_sm.Get(B("k"))));
        Assert.Equal(6, _sm.ReadFence(B("job")));

        // A retry of a write applied before the newer token came keeps its recorded outcome.
        Assert.Equal((NoKvErrorCode.Ok, true), Write(new FencedWriteCommand(B("job"), 5, Put(s1, 2, "k", "by-5-again"))));
        Assert.Equal("by-6", S(_sm.Get(B("k"))));

        // Another lock's fence and unfenced writes are not affected.
        Assert.Equal((NoKvErrorCode.Ok, true), Write(new FencedWriteCommand(B("other-lock"), 1, Put(s2, 2, "k2", "x"))));
        Assert.Equal((NoKvErrorCode.Ok, true), Write(Put(s2, 3, "k", "plain")));
    }

    [Fact]
    public async Task Lock_records_and_fences_survive_a_reload_and_travel_in_snapshots()
    {
        Acquire(A);
        Acquire(Bee);
        Write(new FencedWriteCommand(B("job"), 1, Put(Guid.NewGuid(), 1, "k", "v")));

        var reloaded = new ShardStateMachine(_db, State(1));
        Assert.Equal(A, reloaded.ReadLock(B("job"))!.Holder!.Value.Owner);
        Assert.Equal(1, reloaded.ReadFence(B("job")));

        var snapshot = _sm.ExportSnapshot();
        var otherFs = new MemFileSystem();
        using var otherDb = Database.Open("/other", new StorageOptions { FileSystem = otherFs, UseMappedReads = false });
        var follower = new ShardStateMachine(otherDb, State(1));
        await follower.InstallSnapshotAsync(snapshot, _sm.AppliedIndex, 1);
        var record = follower.ReadLock(B("job"))!;
        Assert.Equal(new LockHolder(A, 1, 1000), record.Holder);
        Assert.Equal(Bee, Assert.Single(record.Waiters).Owner);
        Assert.Equal(1, follower.ReadFence(B("job")));
        Assert.Single(follower.ReadActiveLocks());
        Assert.True(follower.TakeLocksReplaced());
    }

    private (bool Granted, long Payload) Acquire(Guid owner, bool wait = true)
    {
        var outcome = Apply(new LockCommand(CommandType.AcquireLock, 1, B("job"), owner, LeaseMs: 1000, Wait: wait));
        Assert.Equal(NoKvErrorCode.Ok, outcome.Code);
        return (outcome.Succeeded, outcome.Payload);
    }

    private ApplyOutcome Apply(LockCommand command)
    {
        var outcomes = new List<ApplyOutcome>();
        _index++;
        _sm.ApplyAsync(new[] { new Entry(1, _index, command.Encode()) }, outcomes).AsTask().GetAwaiter().GetResult();
        return outcomes.Count == 0 ? default : Assert.Single(outcomes);
    }

    private (NoKvErrorCode, bool) Write(FencedWriteCommand command) => Write(command.Encode());

    private (NoKvErrorCode, bool) Write(KvCommand command) => Write(command.Encode());

    private (NoKvErrorCode, bool) Write(byte[] entry)
    {
        var outcomes = new List<ApplyOutcome>();
        _index++;
        _sm.ApplyAsync(new[] { new Entry(1, _index, entry) }, outcomes).AsTask().GetAwaiter().GetResult();
        var outcome = Assert.Single(outcomes);
        return (outcome.Code, outcome.Succeeded);
    }

    private static KvCommand Put(Guid session, long sequence, string key, string value) =>
        new(WriteKind.Put, 1, new ClientSession(session, sequence), B(key), B(value), null, 1);

    private static ReplicaState State(ulong peer) =>
        new(peer, new ShardDescriptor(new ShardId(1), KeyRange.All, 1, 1, [new PeerDescriptor(1, new StoreId(1), PeerRole.Voter)]));

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    public void Dispose()
    {
        _db.Dispose();
    }
}
