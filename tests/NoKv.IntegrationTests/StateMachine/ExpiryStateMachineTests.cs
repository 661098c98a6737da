using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using Xunit;

namespace NoKv.IntegrationTests.StateMachine;

/// <summary>
/// Key expiry in the shard state machine on a real engine: the expiry is fixed by the proposing leader's clock and
/// carried in the command; reads judge it by the serving leader's clock; an expired value is absent to reads, scans,
/// compare-and-swaps and expiry changes, and never lets an older version show through, not even after GC.
/// </summary>
public sealed class ExpiryStateMachineTests : IDisposable
{
    private const long Epoch = 1;
    private readonly string _path = Path.Combine(Path.GetTempPath(), "nokv-ttl-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Database _db;
    private readonly ReplicaState _shard = new(1, new ShardDescriptor(new ShardId(1), KeyRange.All, Epoch, 1, [new PeerDescriptor(1, new StoreId(1), PeerRole.Voter)]));
    private readonly ShardStateMachine _sm;
    private readonly Guid _client = Guid.NewGuid();
    private ulong _index;
    private long _sequence;

    public ExpiryStateMachineTests()
    {
        _db = Database.Open(_path);
        _sm = new ShardStateMachine(_db, _shard);
    }

    [Fact]
    public async Task The_proposers_clock_fixes_the_expiry_and_every_replica_applies_the_same()
    {
        // The leader proposes at 10 s with a 1 s time to live: the entry carries 11 s, whatever the appliers' clocks.
        var entry = KvCommand.From(Request(WriteKind.Put, "k", "v", ttlMs: 1_000), proposedAtMs: 10_000).Encode();
        Assert.Equal(11_000, KvCommand.Decode(entry).ExpiresAtMs);
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(_sm, entry));

        // A second replica applies the same entry much later: same rows, same answers.
        string otherPath = _path + "-other";
        using (var other = Database.Open(otherPath))
        {
            var replica = new ShardStateMachine(other, _shard);
            await replica.ApplyAsync(new[] { new Entry(1, _index, entry) }, new List<ApplyOutcome>());
            Assert.Equal(Rows(_db), Rows(other));
            Assert.Equal(("v", 11_000L), Live(replica, "k", 10_999));
        }

        Directory.Delete(otherPath, recursive: true);
        Assert.Equal(("v", 11_000L), Live(_sm, "k", 10_999));
        Assert.Equal((null, 0L), Live(_sm, "k", 11_000));
    }

    [Fact]
    public async Task An_expired_value_is_absent_everywhere_and_no_older_version_shows_through()
    {
        await ApplyAsync(Command(WriteKind.Put, "k", "old", at: 1_000));
        await ApplyAsync(Command(WriteKind.Put, "k", "new", at: 2_000) with { ExpiresAtMs = 5_000 });
        await ApplyAsync(Command(WriteKind.Put, "m", "stays", at: 2_000));

        Assert.Equal(("new", 5_000L), Live(_sm, "k", 4_999));
        Assert.Equal((null, 0L), Live(_sm, "k", 5_000));
        Assert.Equal(new[] { "k", "m" }, Scan(4_999));
        Assert.Equal(new[] { "m" }, Scan(5_000));
        Assert.Null(_sm.GetAt(B("k"), long.MaxValue - 1, 5_000).Value);

        // Compare-and-swap judges by the proposer's clock: expired is absent.
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Command(WriteKind.CompareAndSwap, "k", "x", at: 6_000, expected: "new")));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Command(WriteKind.CompareAndSwap, "k", "x", at: 6_000, expected: "old")));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Command(WriteKind.CompareAndSwap, "k", "fresh", at: 6_000)));
        Assert.Equal(("fresh", 0L), Live(_sm, "k", 6_000));

        // Proposed before the expiry, the same swap compares with the live value.
        await ApplyAsync(Command(WriteKind.Put, "n", "a", at: 6_000) with { ExpiresAtMs = 9_000 });
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Command(WriteKind.CompareAndSwap, "n", "b", at: 8_999, expected: "a")));
        Assert.Equal(("b", 0L), Live(_sm, "n", 10_000));
    }

    [Fact]
    public async Task A_write_that_expired_before_it_was_proposed_removes_the_key_for_every_clock()
    {
        await ApplyAsync(Command(WriteKind.Put, "k", "v", at: 1_000));
        var entry = KvCommand.From(Request(WriteKind.Put, "k", "w", ttlMs: 0), proposedAtMs: 2_000);
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(entry));

        // A tombstone, not a value that merely expired: a later leader whose clock is behind sees nothing either.
        Assert.Equal((null, 0L), Live(_sm, "k", 0));
        Assert.Null(_sm.Get(B("k")));

        // On an absent key it writes nothing at all.
        var rows = Rows(_db);
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Command(WriteKind.Put, "absent", "w", at: 3_000) with { ExpiresAtMs = 2_500 }));
        Assert.Equal(rows, Rows(_db));
    }

    [Fact]
    public async Task Expire_changes_only_the_expiry_of_a_live_value_under_its_condition()
    {
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 5_000, at: 1_000)));
        await ApplyAsync(Command(WriteKind.Put, "k", "v", at: 1_000));

        // NX on a value without expiry sets it; then NX refuses, XX and GT and LT judge against 5 s.
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Expire("k", 5_000, at: 1_000, ExpireCondition.IfNoExpiry)));
        Assert.Equal(("v", 5_000L), Live(_sm, "k", 1_000));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 9_000, at: 1_000, ExpireCondition.IfNoExpiry)));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 4_000, at: 1_000, ExpireCondition.IfLater)));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Expire("k", 6_000, at: 1_000, ExpireCondition.IfLater)));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 7_000, at: 1_000, ExpireCondition.IfEarlier)));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Expire("k", 5_500, at: 1_000, ExpireCondition.IfHasExpiry)));
        Assert.Equal(("v", 5_500L), Live(_sm, "k", 1_000));

        // Persist (no expiry) only if it has one; then LT applies (no expiry counts as never), GT does not.
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Expire("k", 0, at: 1_000, ExpireCondition.IfHasExpiry)));
        Assert.Equal(("v", 0L), Live(_sm, "k", 100_000));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 0, at: 1_000, ExpireCondition.IfHasExpiry)));
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 8_000, at: 1_000, ExpireCondition.IfLater)));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Expire("k", 8_000, at: 1_000, ExpireCondition.IfEarlier)));

        // An expired key cannot be revived by an expiry change; an expiry in the past deletes a live key.
        Assert.Equal((NoKvErrorCode.Ok, false), await ApplyAsync(Expire("k", 0, at: 8_000)));
        await ApplyAsync(Command(WriteKind.Put, "j", "v", at: 9_000));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Expire("j", 8_000, at: 9_000)));
        Assert.Null(_sm.Get(B("j")));
    }

    [Fact]
    public async Task Keep_expiry_carries_the_replaced_values_expiry_and_a_plain_put_clears_it()
    {
        await ApplyAsync(Command(WriteKind.Put, "k", "1", at: 1_000) with { ExpiresAtMs = 5_000 });
        await ApplyAsync(Command(WriteKind.Put, "k", "2", at: 2_000) with { KeepExpiry = true });
        Assert.Equal(("2", 5_000L), Live(_sm, "k", 2_000));
        Assert.Equal((NoKvErrorCode.Ok, true), await ApplyAsync(Command(WriteKind.CompareAndSwap, "k", "3", at: 3_000, expected: "2") with { KeepExpiry = true }));
        Assert.Equal(("3", 5_000L), Live(_sm, "k", 3_000));
        await ApplyAsync(Command(WriteKind.Put, "k", "4", at: 4_000));
        Assert.Equal(("4", 0L), Live(_sm, "k", 60_000));

        // Keeping the expiry of an expired value keeps nothing.
        await ApplyAsync(Command(WriteKind.Put, "e", "1", at: 1_000) with { ExpiresAtMs = 2_000 });
        await ApplyAsync(Command(WriteKind.Put, "e", "2", at: 3_000) with { KeepExpiry = true });
        Assert.Equal(("2", 0L), Live(_sm, "e", 60_000));

        // Expiry fields that do not fit the kind change nothing.
        var misfit = Command(WriteKind.Delete, "k", null, at: 5_000) with { ExpiresAtMs = 9_000 };
        Assert.Equal((NoKvErrorCode.InvalidRange, false), await ApplyAsync(misfit));
        Assert.Equal(("4", 0L), Live(_sm, "k", 60_000));
    }

    [Fact]
    public async Task Gc_drops_expired_versions_and_everything_older_so_nothing_is_resurrected()
    {
        await ApplyAsync(Command(WriteKind.Put, "k", "old", at: 1_000));
        await ApplyAsync(Command(WriteKind.Put, "k", "new", at: 2_000) with { ExpiresAtMs = 5_000 });
        await ApplyAsync(Command(WriteKind.Put, "m", "a", at: 2_000) with { ExpiresAtMs = 50_000 });
        long safePoint = _sm.Floor.MaxTs;

        // Before the expiry, GC keeps the live value and drops only what it shadows.
        await ApplyAsync(new TxnGcCommand(safePoint, 4_000, 100, []).Encode());
        Assert.Equal(1, VersionRows("k"));
        Assert.Equal(("new", 5_000L), Live(_sm, "k", 4_000));

        // After it, the expired version goes, and the key stays absent (the old value is gone too).
        await ApplyAsync(new TxnGcCommand(safePoint, 6_000, 100, []).Encode());
        Assert.Equal(0, VersionRows("k"));
        Assert.Equal(1, VersionRows("m"));
        Assert.Equal((null, 0L), Live(_sm, "k", 0));
        Assert.Null(_sm.Get(B("k")));
    }

    [Fact]
    public async Task Raft_snapshots_carry_expiries_unchanged()
    {
        await ApplyAsync(Command(WriteKind.Put, "k", "v", at: 1_000) with { ExpiresAtMs = 5_000 });
        var data = _sm.ExportSnapshot();
        string otherPath = _path + "-snap";
        using (var other = Database.Open(otherPath))
        {
            var copy = new ShardStateMachine(other, _shard);
            await copy.InstallSnapshotAsync(data, _sm.AppliedIndex, _sm.AppliedTerm);
            Assert.Equal(("v", 5_000L), Live(copy, "k", 4_999));
            Assert.Equal((null, 0L), Live(copy, "k", 5_000));
        }

        Directory.Delete(otherPath, recursive: true);
    }

    private static (string? Value, long ExpiresAtMs) Live(ShardStateMachine sm, string key, long nowMs)
    {
        var (code, value, expiresAt, _) = sm.ReadWithExpiry(B(key), nowMs);
        Assert.Equal(NoKvErrorCode.Ok, code);
        return (S(value), expiresAt);
    }

    private string[] Scan(long nowMs) =>
        _sm.Scan([], [], 100, long.MaxValue, nowMs).Entries.Select(e => S(e.Key)!).ToArray();

    private WriteRequest Request(WriteKind kind, string key, string? value, long? ttlMs) => new()
    {
        TtlMs = ttlMs,
        Shard = _shard.Descriptor.Id,
        Epoch = Epoch,
        Kind = kind,
        Key = B(key),
        Value = value is null ? null : B(value),
        Session = new ClientSession(_client, ++_sequence),
    };

    private KvCommand Command(WriteKind kind, string key, string? value, long at, string? expected = null) =>
        new(kind, Epoch, new ClientSession(_client, ++_sequence), B(key), value is null ? null : B(value), expected is null ? null : B(expected), at);

    private KvCommand Expire(string key, long expiresAtMs, long at, ExpireCondition condition = ExpireCondition.Always) =>
        Command(WriteKind.Expire, key, null, at) with { ExpiresAtMs = expiresAtMs, Condition = condition };

    private Task<(NoKvErrorCode, bool)> ApplyAsync(KvCommand command) => ApplyAsync(_sm, command.Encode());

    private Task<(NoKvErrorCode, bool)> ApplyAsync(byte[] entry) => ApplyAsync(_sm, entry);

    private async Task<(NoKvErrorCode, bool)> ApplyAsync(ShardStateMachine sm, byte[] entry)
    {
        var outcomes = new List<ApplyOutcome>();
        _index++;
        await sm.ApplyAsync(new[] { new Entry(1, _index, entry) }, outcomes);
        var outcome = Assert.Single(outcomes);
        return (outcome.Code, outcome.Succeeded);
    }

    /// <summary>Every data row of the shard (keys and values in hex), in order.</summary>
    private static List<string> Rows(Database db)
    {
        var (start, end) = KeySpace.DataRange([], []);
        var rows = new List<string>();
        using var it = db.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            rows.Add(Convert.ToHexString(it.Key) + "=" + Convert.ToHexString(it.Value));
        }

        return rows;
    }

    private int VersionRows(string key)
    {
        var start = KeySpace.DataKey(B(key));
        var end = new byte[start.Length + 1];
        start.CopyTo(end, 0);
        end[^1] = 0xFF;
        using var it = _db.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        int rows = 0;
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            rows += NoKv.Replica.Mvcc.MvccKeys.TryParse(it.Key, out _, out byte tag, out _) && tag == NoKv.Replica.Mvcc.MvccKeys.VersionTag ? 1 : 0;
        }

        return rows;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_path, recursive: true);
    }
}
