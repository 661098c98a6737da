using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Replica.Log;
using NoKv.Replica.Snapshots;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using Xunit;
using static NoKv.Replica.Tests.Support.StateMachineTestKit;
using Snapshot = NoKv.Raft.Messages.Snapshot;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// Snapshots staged in files (docs/replica.md, "Snapshots in files"): a leader exports to a file that Raft reads a
/// chunk at a time, a follower appends each arriving chunk to a file and installs by streaming from it; every staging
/// file is gone once its snapshot is installed, superseded or dropped; a damaged staged snapshot changes nothing.
/// </summary>
public sealed class StagedSnapshotTests : IDisposable
{
    private const int ChunkBytes = 64 << 10;
    private readonly string _staging = Path.Combine(Path.GetTempPath(), $"nokv-staging-{Guid.NewGuid():N}");

    public StagedSnapshotTests() => SnapshotStaging.Clean(_staging);

    public void Dispose() => Directory.Delete(_staging, recursive: true);

    private string[] StagedFiles() => Directory.GetFiles(_staging);

    [Fact]
    public async Task A_leader_exports_to_a_staging_file_that_goes_when_the_snapshot_is_released_or_dropped()
    {
        using var db = NewEngine();
        var sm = OpenStaged(db, Single, 7);
        for (int i = 1; i <= 100; i++)
        {
            ApplyOne(sm, (ulong)i, Put(i, $"k{i:D4}", new string('v', 4096)).Encode());
        }

        Snapshot snapshot = await ExportAsync(sm);
        Assert.True(snapshot.Data.IsEmpty);
        var payload = Assert.IsType<FileSnapshotPayload>(snapshot.Payload);
        Assert.Equal(payload.Path, Assert.Single(StagedFiles()));
        Assert.True(snapshot.Size > 100 * 4096);

        using (var other = NewEngine("/other"))
        {
            var follower = Open(other, Single, 7);
            await follower.InstallSnapshotAsync(payload, snapshot.Metadata.Index, snapshot.Metadata.Term);
            Assert.Equal(100UL, follower.AppliedIndex);
            Assert.Equal(new string('v', 4096), S(follower.Get(B("k0100"))));
        }

        payload.Dispose();
        Assert.Empty(StagedFiles());

        // A finished export Raft never takes is dropped with its file.
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => sm.CreateSnapshotForRaft());
        await WaitUntilAsync(() => sm.ExportFinished);
        Assert.Single(StagedFiles());
        sm.DropUntakenExport(keepMs: -1);
        Assert.Empty(StagedFiles());

        // An export the log was replaced past meanwhile is released when the log store drops it.
        var log = RaftLogStore.Load(db, Single.Id, ConfStates.Of(Single), sm.CreateSnapshotForRaft);
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => log.Snapshot());
        log.CommitSnapshot(150, 1);
        await WaitUntilAsync(() => sm.ExportFinished);
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => log.Snapshot());
        await WaitUntilAsync(() => sm.ExportFinished);
        sm.DiscardExport();
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public void A_follower_stages_each_chunk_as_it_arrives_installs_from_the_file_and_deletes_it()
    {
        using var group = new ScriptedGroup(stagingDirectory: _staging);
        var (image, meta) = LeaderImage(group, index: 50, keys: 64);
        Assert.True(image.Length > 4 * ChunkBytes);

        for (int offset = 0; offset + ChunkBytes < image.Length; offset += ChunkBytes)
        {
            DeliverChunk(group, meta, image, offset);

            // The received prefix is on disk, not in the replica: the staging file holds exactly what arrived.
            var staged = Assert.Single(StagedFiles());
            Assert.Equal(offset + ChunkBytes, new FileInfo(staged).Length);
            Assert.Equal((long)group.Core.GetStatus("test").SnapshotBytesReceived, new FileInfo(staged).Length);
        }

        DeliverChunk(group, meta, image, image.Length - (image.Length % ChunkBytes == 0 ? ChunkBytes : image.Length % ChunkBytes));

        Assert.Null(group.Failure);
        Assert.Equal(50UL, group.Core.AppliedIndex);
        Assert.True(HasRows(group.Database, "key0063"));
        Assert.Empty(StagedFiles());
        Assert.Contains(group.Sent, m => m.Type == MessageType.AppendResponse && !m.Reject && m.Index == 50);
    }

    [Fact]
    public void A_superseding_snapshot_deletes_the_staged_prefix_of_the_one_it_replaces()
    {
        using var group = new ScriptedGroup(stagingDirectory: _staging);
        var (image, meta) = LeaderImage(group, index: 50, keys: 64);
        DeliverChunk(group, meta, image, 0);
        DeliverChunk(group, meta, image, ChunkBytes);
        string first = Assert.Single(StagedFiles());

        var (newer, newerMeta) = LeaderImage(group, index: 60, keys: 64);
        DeliverChunk(group, newerMeta, newer, 0);
        string second = Assert.Single(StagedFiles());
        Assert.NotEqual(first, second);

        // Closing the replica (deactivation, a failure) drops what it staged too.
        group.Core.Close();
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public void A_damaged_staged_snapshot_is_rejected_changes_nothing_and_a_resend_installs()
    {
        using var group = new ScriptedGroup(stagingDirectory: _staging);
        var (image, meta) = LeaderImage(group, index: 50, keys: 64);
        var damaged = (byte[])image.Clone();
        damaged[image.Length / 2] ^= 0x5A;   // inside the data section's range export
        ulong firstIndex = group.Core.FirstIndex;

        DeliverAll(group, meta, damaged);

        Assert.IsType<CorruptionException>(group.Failure);
        Assert.Equal(firstIndex, group.Core.FirstIndex);     // the log was not moved to the snapshot's index
        Assert.Equal(0UL, group.Core.AppliedIndex);
        Assert.False(HasRows(group.Database, "key0000"));
        Assert.DoesNotContain(group.Sent, m => m.Type == MessageType.AppendResponse && !m.Reject && m.Index >= 50);
        Assert.Empty(StagedFiles());

        // Reopened from disk (as the host does with a failed replica) it is where it was, and takes the resent snapshot.
        group.Reopen();
        Assert.Equal(firstIndex, group.Core.FirstIndex);
        Assert.Equal(0UL, group.Core.AppliedIndex);
        DeliverAll(group, meta, image);
        Assert.Equal(50UL, group.Core.AppliedIndex);
        Assert.True(HasRows(group.Database, "key0000"));
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public void Start_up_deletes_staging_files_a_crash_left()
    {
        File.WriteAllBytes(Path.Combine(_staging, "1-7-50-2-receive-0.snap"), new byte[100]);
        File.WriteAllBytes(Path.Combine(_staging, "1-7-50-2-export-0.snap"), new byte[100]);
        SnapshotStaging.Clean(_staging);
        Assert.Empty(StagedFiles());
    }

    private static readonly ShardDescriptor Single = new(new ShardId(1), KeyRange.All, 1, 1, [new PeerDescriptor(7, new StoreId(1), PeerRole.Voter)]);

    private ShardStateMachine OpenStaged(Database db, ShardDescriptor shard, ulong peer)
    {
        var batch = new WriteBatch();
        batch.Put(KeySpace.ReplicaStateKey(shard.Id), ReplicaStateCodec.Encode(new ReplicaState(peer, shard)));
        db.Write(batch, WriteOptions.Default);
        return new ShardStateMachine(db, new ReplicaState(peer, shard)) { Staging = new SnapshotStaging(_staging) };
    }

    /// <summary>A snapshot image of the group's shard as peer B's state machine would export it, with random values.</summary>
    private static (byte[] Image, SnapshotMetadata Meta) LeaderImage(ScriptedGroup group, ulong index, int keys)
    {
        using var db = NewEngine("/leader");
        var sm = Open(db, group.Shard, group.PeerIdOf(ScriptedGroup.PeerB));
        var random = new Random((int)index);
        for (int i = 0; i < keys; i++)
        {
            var value = new byte[4096];
            random.NextBytes(value);
            ApplyOne(sm, (ulong)i + 1, Put(i + 1, $"key{i:D4}", Convert.ToBase64String(value)).Encode());
        }

        // Exported as of index (the test's leader says the image covers its log up to there).
        var image = sm.ExportSnapshot();
        return (image, new SnapshotMetadata(index, 2, ConfStates.Of(group.Shard)));
    }

    private static void DeliverChunk(ScriptedGroup group, SnapshotMetadata meta, byte[] image, int offset)
    {
        int length = Math.Min(ChunkBytes, image.Length - offset);
        group.Deliver(new Message
        {
            Type = MessageType.Snapshot, From = group.PeerIdOf(ScriptedGroup.PeerB), To = group.PeerIdOf(ScriptedGroup.Self), Term = 3,
            Snapshot = new Snapshot(meta, image.AsMemory(offset, length)), ChunkOffset = (ulong)offset, SnapshotSize = (ulong)image.Length,
        });
    }

    private static void DeliverAll(ScriptedGroup group, SnapshotMetadata meta, byte[] image)
    {
        for (int offset = 0; offset < image.Length; offset += ChunkBytes)
        {
            DeliverChunk(group, meta, image, offset);
        }
    }

    private static async Task<Snapshot> ExportAsync(ShardStateMachine sm)
    {
        Assert.Throws<SnapshotTemporarilyUnavailableException>(() => sm.CreateSnapshotForRaft());
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

    /// <summary>Whether the engine holds any version of user key <paramref name="key"/>.</summary>
    private static bool HasRows(Database db, string key)
    {
        var prefix = KeySpace.DataKey(B(key));
        using var it = db.NewIterator(new ReadOptions { LowerBound = prefix });
        it.SeekToFirst();
        return it.Valid && it.Key.StartsWith(prefix);
    }
}
