using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Replica.Log;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using Xunit;
using static NoKv.Replica.Tests.Support.StateMachineTestKit;
using Snapshot = NoKv.Raft.Messages.Snapshot;

namespace NoKv.Replica.Tests.StateMachine;

/// <summary>
/// A leader's snapshot for a follower is exported on the thread pool, not inside Raft's request on the replica's
/// (scheduler) thread: Raft is told to ask again, and then gets the export at the index it was taken at.
/// </summary>
public sealed class BackgroundSnapshotExportTests : IDisposable
{
    private static readonly ShardDescriptor Shard = new(new ShardId(1), KeyRange.All, 1, 1, [new PeerDescriptor(7, new StoreId(1), PeerRole.Voter)]);
    private readonly Database _db = NewEngine();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task The_first_request_starts_the_export_and_a_later_one_gets_it_at_the_index_it_was_taken_at()
    {
        var sm = Open(_db, Shard, 7);
        for (int i = 1; i <= 200; i++)
        {
            ApplyOne(sm, (ulong)i, Put(i, $"k{i:D4}", new string('v', 512)).Encode());
        }

        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => sm.CreateSnapshotForRaft());
        Assert.Equal(200UL, sm.PendingExportIndex);

        // Writes applied while the export runs are not in it: it is the state at index 200.
        ApplyOne(sm, 201, Put(201, "k0001", "changed").Encode());
        Snapshot snapshot = await WaitForExportAsync(sm);
        Assert.Equal(200UL, snapshot.Metadata.Index);
        Assert.Null(sm.PendingExportIndex);

        using var other = NewEngine("/other");
        var follower = Open(other, Shard, 7);
        await follower.InstallSnapshotAsync(snapshot.Data, snapshot.Metadata.Index, snapshot.Metadata.Term);
        Assert.Equal(new string('v', 512), S(follower.Get(B("k0001"))));
        Assert.Equal(new string('v', 512), S(follower.Get(B("k0200"))));
        Assert.Equal("changed", S(sm.Get(B("k0001"))));

        // Taken once: the next request starts a new export, at the index applied by then.
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => sm.CreateSnapshotForRaft());
        Assert.Equal(201UL, sm.PendingExportIndex);
        Assert.Equal(201UL, (await WaitForExportAsync(sm)).Metadata.Index);
    }

    [Fact]
    public async Task A_finished_export_raft_does_not_take_is_dropped_after_the_keep_time()
    {
        var sm = Open(_db, Shard, 7);
        ApplyOne(sm, 1, Put(1, "a", "1").Encode());
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => sm.CreateSnapshotForRaft());
        await WaitUntilAsync(() => sm.ExportFinished);
        sm.DropUntakenExport(keepMs: 60_000);
        Assert.Equal(1UL, sm.PendingExportIndex);

        sm.DropUntakenExport(keepMs: -1);
        Assert.Null(sm.PendingExportIndex);
        ApplyOne(sm, 2, Put(2, "b", "2").Encode());
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => sm.CreateSnapshotForRaft());
        Assert.Equal(2UL, sm.PendingExportIndex);
    }

    [Fact]
    public void A_host_that_must_replay_exports_inline()
    {
        var batch = new WriteBatch();
        batch.Put(KeySpace.ReplicaStateKey(Shard.Id), ReplicaStateCodec.Encode(new ReplicaState(7, Shard)));
        _db.Write(batch, WriteOptions.Default);
        var sm = new ShardStateMachine(_db, new ReplicaState(7, Shard)) { ExportSnapshotsInline = true };
        ApplyOne(sm, 1, Put(1, "a", "1").Encode());
        Assert.Equal(1UL, sm.CreateSnapshotForRaft().Metadata.Index);
        Assert.Null(sm.PendingExportIndex);
    }

    [Fact]
    public async Task An_export_the_log_was_compacted_past_meanwhile_is_dropped_and_taken_again()
    {
        var sm = Open(_db, Shard, 7);
        for (int i = 1; i <= 20; i++)
        {
            ApplyOne(sm, (ulong)i, Put(i, $"k{i}", "v").Encode());
        }

        var log = RaftLogStore.Load(_db, Shard.Id, ConfStates.Of(Shard), sm.CreateSnapshotForRaft);
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => log.Snapshot());
        Assert.Equal(20UL, sm.PendingExportIndex);
        for (int i = 21; i <= 30; i++)
        {
            ApplyOne(sm, (ulong)i, Put(i, $"k{i}", "v").Encode());
        }

        // The log is replaced past the export's index (as a snapshot install or a compaction would): it is useless.
        log.CommitSnapshot(25, 1);
        await WaitUntilAsync(() => sm.ExportFinished);
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => log.Snapshot());
        Assert.Equal(30UL, sm.PendingExportIndex);
        await WaitUntilAsync(() => sm.ExportFinished);
        Assert.Equal(30UL, log.Snapshot().Metadata.Index);
    }

    private static async Task<Snapshot> WaitForExportAsync(ShardStateMachine sm)
    {
        await WaitUntilAsync(() => sm.ExportFinished);
        return sm.CreateSnapshotForRaft();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the export did not finish within 30 s");
            await Task.Delay(5);
        }
    }
}
