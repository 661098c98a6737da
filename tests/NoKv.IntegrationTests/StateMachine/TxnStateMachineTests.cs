using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using Xunit;

namespace NoKv.IntegrationTests.StateMachine;

/// <summary>Each transaction action of the shard state machine on a real engine: what it checks, what it changes.</summary>
public sealed class TxnStateMachineTests : IDisposable
{
    private const long Epoch = 1;
    private const long Ms = 1L << ShardStateMachine.LogicalBits;
    private readonly string _path = Path.Combine(Path.GetTempPath(), "nokv-txn-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Database _db;
    private readonly ReplicaState _shard = new(1, new ShardDescriptor(new ShardId(1), new KeyRange(B("a"), B("n")), Epoch, 1, [new PeerDescriptor(1, new StoreId(1), PeerRole.Voter)]));
    private readonly ShardStateMachine _sm;
    private ulong _index;
    private long _session = 1;
    private readonly Guid _client = Guid.NewGuid();

    public TxnStateMachineTests()
    {
        _db = Database.Open(_path);
        _sm = new ShardStateMachine(_db, _shard);
    }

    [Fact]
    public async Task PrewriteLocksAllOrNothingAndCommitMakesVersions()
    {
        await PutAsync("b", "old", 1_000);
        long start = 2_000 * Ms;

        // A conflict on one key locks none of them. (A snapshot read at 3 s raised the floor; the plain write after
        // it is stamped above.)
        await TxnAsync(new TxnRaiseReadTsCommand(3_000 * Ms));
        await PutAsync("c", "newer", 3_000);
        var refused = await TxnAsync(new TxnPrewriteCommand(Epoch, start, 3_001, 5_000, B("b"), [M("b", "1"), M("c", "2")]));
        Assert.Equal(NoKvErrorCode.WriteConflict, refused.Code);
        Assert.Equal("c", S(refused.ConflictKey));
        Assert.Equal(NoKvErrorCode.Ok, _sm.Read(B("b"), 0).Code);

        start = 4_000 * Ms;
        Assert.Equal(NoKvErrorCode.Ok, (await TxnAsync(new TxnPrewriteCommand(Epoch, start, 4_001, 5_000, B("b"), [M("b", "1"), M("c", null)]))).Code);

        // Retried prewrite: idempotent. Another transaction: KeyLocked with the lock's primary.
        Assert.Equal(NoKvErrorCode.Ok, (await TxnAsync(new TxnPrewriteCommand(Epoch, start, 4_002, 5_000, B("b"), [M("b", "1"), M("c", null)]))).Code);
        var other = await TxnAsync(new TxnPrewriteCommand(Epoch, start + 1, 4_003, 5_000, B("c"), [M("c", "x")]));
        Assert.Equal(NoKvErrorCode.KeyLocked, other.Code);
        Assert.Equal("b", S(other.Lock!.PrimaryKey));
        Assert.Equal(start, other.Lock.StartTs);

        // Plain reads and writes meet the lock; snapshot reads below the lock's start do not.
        Assert.Equal(NoKvErrorCode.KeyLocked, _sm.Read(B("b"), 0).Code);
        Assert.Equal(NoKvErrorCode.KeyLocked, (await PutAsync("b", "plain", 4_100)).Code);
        Assert.Equal("old", S(_sm.GetAt(B("b"), start - 1, 0).Value));
        Assert.Equal(NoKvErrorCode.KeyLocked, _sm.GetAt(B("b"), start + 5, 0).Code);

        long commit = 5_000 * Ms;
        var primary = await TxnAsync(new TxnCommitCommand(Epoch, start, commit, B("b"), [B("b")]));
        Assert.Equal((NoKvErrorCode.Ok, TxnStatus.Committed), (primary.Code, primary.Status));
        Assert.Equal(TxnStatus.Committed, (await TxnAsync(new TxnCheckStatusCommand(Epoch, start, 9_999, false, B("b")))).Status);
        Assert.Equal(NoKvErrorCode.Ok, (await TxnAsync(new TxnCommitCommand(Epoch, start, commit, null, [B("c")]))).Code);

        Assert.Equal("1", S(_sm.Read(B("b"), 0).Value));
        Assert.Null(_sm.Read(B("c"), 0).Value);
        Assert.Equal("old", S(_sm.GetAt(B("b"), commit - 1, 0).Value));
        Assert.Equal("newer", S(_sm.GetAt(B("c"), commit - 1, 0).Value));

        // Committing again answers from the status row; a primary commit of an unknown transaction is refused.
        Assert.Equal(NoKvErrorCode.Ok, (await TxnAsync(new TxnCommitCommand(Epoch, start, commit, B("b"), [B("b")]))).Code);
        Assert.Equal(NoKvErrorCode.TxnAborted, (await TxnAsync(new TxnCommitCommand(Epoch, 42, 43, B("b"), [B("b")]))).Code);

        // Keys outside the shard, or a stale epoch, refuse the whole command.
        Assert.Equal(NoKvErrorCode.WrongShard, (await TxnAsync(new TxnPrewriteCommand(Epoch, 6_000 * Ms, 6_000, 5_000, B("b"), [M("b", "1"), M("z", "2")]))).Code);
        Assert.Equal(NoKvErrorCode.WrongShard, (await TxnAsync(new TxnPrewriteCommand(Epoch + 1, 6_000 * Ms, 6_000, 5_000, B("b"), [M("b", "1")]))).Code);
        Assert.Equal(NoKvErrorCode.Ok, _sm.Read(B("b"), 0).Code);
    }

    [Fact]
    public async Task CheckStatusRollsBackExpiredPrimariesAndBlocksLatePrewrites()
    {
        long start = 1_000 * Ms;
        await TxnAsync(new TxnPrewriteCommand(Epoch, start, 1_000, 500, B("d"), [M("d", "v"), M("e", "w")]));

        // Live lock: reported, not touched. Expired (by the proposer's clock): rolled back and recorded.
        var live = await TxnAsync(new TxnCheckStatusCommand(Epoch, start, 1_200, false, B("d")));
        Assert.Equal(TxnStatus.Locked, live.Status);
        Assert.Equal(200, live.Lock!.AgeMs);
        var expired = await TxnAsync(new TxnCheckStatusCommand(Epoch, start, 1_600, false, B("d")));
        Assert.Equal(TxnStatus.RolledBack, expired.Status);
        Assert.Equal(NoKvErrorCode.Ok, _sm.Read(B("d"), 0).Code);

        // The secondary is rolled back by a resolver; a late prewrite or commit of the primary fails for good.
        Assert.Equal(NoKvErrorCode.KeyLocked, _sm.Read(B("e"), 0).Code);
        await TxnAsync(new TxnRollbackCommand(Epoch, start, null, [B("e")]));
        Assert.Equal(NoKvErrorCode.Ok, _sm.Read(B("e"), 0).Code);
        Assert.Equal(NoKvErrorCode.TxnAborted, (await TxnAsync(new TxnPrewriteCommand(Epoch, start, 1_700, 500, B("d"), [M("d", "v")]))).Code);
        Assert.Equal(NoKvErrorCode.TxnAborted, (await TxnAsync(new TxnCommitCommand(Epoch, start, start + 5, B("d"), [B("d")]))).Code);
        Assert.Null(_sm.Read(B("d"), 0).Value);

        // A primary never prewritten: unknown unless the caller saw the transaction's other locks expire.
        long ghost = 2_000 * Ms;
        Assert.Equal(TxnStatus.Unknown, (await TxnAsync(new TxnCheckStatusCommand(Epoch, ghost, 2_000, false, B("f")))).Status);
        Assert.Equal(TxnStatus.RolledBack, (await TxnAsync(new TxnCheckStatusCommand(Epoch, ghost, 2_000, true, B("f")))).Status);
        Assert.Equal(NoKvErrorCode.TxnAborted, (await TxnAsync(new TxnPrewriteCommand(Epoch, ghost, 2_001, 500, B("f"), [M("f", "late")]))).Code);

        // Rolling back a committed transaction changes nothing and says so.
        long s2 = 3_000 * Ms;
        await TxnAsync(new TxnPrewriteCommand(Epoch, s2, 3_000, 500, B("g"), [M("g", "kept")]));
        await TxnAsync(new TxnCommitCommand(Epoch, s2, s2 + 10, B("g"), [B("g")]));
        Assert.Equal(TxnStatus.Committed, (await TxnAsync(new TxnRollbackCommand(Epoch, s2, B("g"), [B("g")]))).Status);
        Assert.Equal("kept", S(_sm.Read(B("g"), 0).Value));
    }

    [Fact]
    public async Task OnePhaseValidatesReadsAndRangesAndStampsAboveTheReadFloor()
    {
        await PutAsync("b", "1", 1_000);
        long start = 2_000 * Ms;

        // The read floor: a snapshot served at T means every later self-stamped version is above T.
        await TxnAsync(new TxnRaiseReadTsCommand(50_000 * Ms));
        Assert.Equal(50_000 * Ms, _sm.Floor.ReadTs);
        var put = await PutAsync("h", "x", 3_000);
        Assert.Equal(NoKvErrorCode.Ok, put.Code);
        Assert.True(_sm.Floor.MaxTs > 50_000 * Ms);
        Assert.Null(_sm.GetAt(B("h"), 50_000 * Ms, 0).Value);

        // A read key changed after the start: conflict, nothing written.
        var stale = await TxnAsync(new TxnOnePhaseCommand(Epoch, start, 3_000, [M("c", "y")], [B("h")], []));
        Assert.Equal(NoKvErrorCode.WriteConflict, stale.Code);
        Assert.Null(_sm.Read(B("c"), 0).Value);

        // A scanned range that gained a key: conflict.
        var phantom = await TxnAsync(new TxnOnePhaseCommand(Epoch, start, 3_000, [M("c", "y")], [], [new TxnKeyRange(B("g"), B("i"))]));
        Assert.Equal(NoKvErrorCode.WriteConflict, phantom.Code);

        // Valid: committed at a stamp above everything; retried, it answers the same stamp.
        long start2 = _sm.Floor.MaxTs;
        var ok = await TxnAsync(new TxnOnePhaseCommand(Epoch, start2, 3_000, [M("c", "y"), M("b", null)], [B("h")], [new TxnKeyRange(B("g"), B("i"))]));
        Assert.Equal(NoKvErrorCode.Ok, ok.Code);
        Assert.True(ok.CommitTs > start2);
        Assert.Equal(ok.CommitTs, (await TxnAsync(new TxnOnePhaseCommand(Epoch, start2, 3_000, [M("c", "y"), M("b", null)], [B("h")], []))).CommitTs);
        Assert.Equal("y", S(_sm.Read(B("c"), 0).Value));
        Assert.Null(_sm.Read(B("b"), 0).Value);

        // Validation (a read): a version in (start, commit] or a foreign lock started before commit conflicts.
        Assert.Equal(NoKvErrorCode.WriteConflict, _sm.Validate(start, ok.CommitTs, [B("c")], [], 0).Code);
        Assert.Equal(NoKvErrorCode.Ok, _sm.Validate(ok.CommitTs, ok.CommitTs + 5, [B("c")], [new TxnKeyRange(B("a"), B("n"))], 0).Code);
    }

    [Fact]
    public async Task GcDropsShadowedVersionsAndRefusesOldSnapshots()
    {
        // Plain writes are stamped max(read floor, newest version) + 1; raising the floor places them in time.
        await TxnAsync(new TxnRaiseReadTsCommand(1_000 * Ms));
        await PutAsync("k", "v1", 1_000);
        await PutAsync("l", "gone", 1_100);
        await TxnAsync(new TxnRaiseReadTsCommand(1_500 * Ms));
        await PutAsync("l", "x", 1_500, WriteKind.Delete);
        await TxnAsync(new TxnRaiseReadTsCommand(2_000 * Ms));
        await PutAsync("k", "v2", 2_000);
        await TxnAsync(new TxnRaiseReadTsCommand(3_000 * Ms));
        await PutAsync("k", "v3", 3_000);
        long between = 2_500 * Ms;
        Assert.Equal("v2", S(_sm.GetAt(B("k"), between, 0).Value));

        // Slices by user key: the shard's start key "a" holds the floor row, then "k", then "l".
        var slice = await TxnAsync(new TxnGcCommand(between, 4_000, 2, []));
        Assert.Equal("l", S(slice.NextKey));
        await TxnAsync(new TxnGcCommand(between, 4_000, 100, slice.NextKey!));

        Assert.Equal(NoKvErrorCode.SnapshotTooOld, _sm.GetAt(B("k"), between - 1, 0).Code);
        Assert.Equal("v2", S(_sm.GetAt(B("k"), between, 0).Value));
        Assert.Equal("v3", S(_sm.Read(B("k"), 0).Value));
        Assert.Equal(2, CountRows("k"));
        Assert.Equal(0, CountRows("l"));
    }

    [Fact]
    public async Task RaftSnapshotsCarryVersionsLocksAndTheFloor()
    {
        long start = 1_000 * Ms;
        await TxnAsync(new TxnPrewriteCommand(Epoch, start, 1_000, 60_000, B("m"), [M("m", "locked")]));
        await PutAsync("b", "1", 1_000);

        // A snapshot of the shard carries versions, locks and the floor row.
        var data = _sm.ExportSnapshot();
        var otherPath = _path + "-copy";
        using (var other = Database.Open(otherPath))
        {
            var copy = new ShardStateMachine(other, _shard);
            await copy.InstallSnapshotAsync(data, _sm.AppliedIndex, _sm.AppliedTerm);
            Assert.Equal("1", S(copy.Read(B("b"), 0).Value));
            Assert.Equal(NoKvErrorCode.KeyLocked, copy.Read(B("m"), 0).Code);
            Assert.Equal(_sm.Floor, copy.Floor);
        }

        Directory.Delete(otherPath, recursive: true);
    }

    private int CountRows(string key)
    {
        var start = KeySpace.DataKey(B(key));
        var end = new byte[start.Length + 1];
        start.CopyTo(end, 0);
        end[^1] = 0xFF;
        using var it = _db.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        int rows = 0;
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            rows++;
        }

        return rows;
    }

    private async Task<ApplyOutcome> PutAsync(string key, string value, long atMs, WriteKind kind = WriteKind.Put)
    {
        var command = new KvCommand(kind, Epoch, new ClientSession(_client, _session++), B(key), kind == WriteKind.Put ? B(value) : null, null, atMs);
        return await ApplyAsync(command.Encode());
    }

    private async Task<TxnResult> TxnAsync(object command)
    {
        byte[] entry = command switch
        {
            TxnPrewriteCommand c => c.Encode(),
            TxnCommitCommand c => c.Encode(),
            TxnRollbackCommand c => c.Encode(),
            TxnCheckStatusCommand c => c.Encode(),
            TxnOnePhaseCommand c => c.Encode(),
            TxnRaiseReadTsCommand c => c.Encode(),
            TxnGcCommand c => c.Encode(),
            _ => throw new ArgumentException("not a transaction command", nameof(command)),
        };
        var outcome = await ApplyAsync(entry);
        return Assert.IsType<TxnResult>(outcome.Result);
    }

    private async Task<ApplyOutcome> ApplyAsync(byte[] entry)
    {
        var outcomes = new List<ApplyOutcome>();
        _index++;
        await _sm.ApplyAsync(new[] { new Entry(1, _index, entry) }, outcomes);
        return Assert.Single(outcomes);
    }

    private static TxnMutation M(string key, string? value) => new(B(key), value is null ? null : B(value));

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_path, recursive: true);
    }
}
