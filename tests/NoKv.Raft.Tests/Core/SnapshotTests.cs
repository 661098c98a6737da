using NoKv.Raft.Messages;
using NoKv.Raft.Tracker;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class SnapshotTests
{
    private static TestCluster LaggingFollowerCluster(int chunkSize, int snapshotBytes, out byte[] snapshotData, int window = 1)
    {
        var data = new byte[snapshotBytes];
        new Random(42).NextBytes(data);
        snapshotData = data;
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { SnapshotChunkSize = chunkSize, SnapshotChunksInFlight = window });
        c.SnapshotData = _ => data;
        var leader = c.Elect(1);
        c.Drop = m => m.To == 3 || m.From == 3;
        for (var i = 0; i < 30; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        c.Deliver();
        c.Compact(1, leader.AppliedIndex);
        return c;
    }

    /// <summary>Lets the leader stream its snapshot to node 3, losing the chunk at <paramref name="offset"/> once; returns the offsets of the chunks delivered.</summary>
    private static List<ulong> StreamLosingChunkOnce(TestCluster c, ulong offset)
    {
        var droppedOnce = false;
        c.Drop = m =>
        {
            if (m.Type == MessageType.Snapshot && m.ChunkOffset == offset && !droppedOnce)
            {
                droppedOnce = true;
                return true;
            }

            return false;
        };
        c.Delivered.Clear();
        c.TickAll(25);
        Assert.True(droppedOnce);
        return c.Delivered.Where(m => m.Type == MessageType.Snapshot).Select(m => m.ChunkOffset).ToList();
    }

    [Theory]
    [InlineData(1000, 1000, 1)]   // one chunk
    [InlineData(100, 1000, 10)]   // exact multiple
    [InlineData(300, 1000, 4)]    // short last chunk
    [InlineData(4096, 0, 1)]      // empty state machine
    public void FarBehindFollowerCatchesUpByChunkedSnapshot(int chunkSize, int size, int expectedChunks)
    {
        var c = LaggingFollowerCluster(chunkSize, size, out var data);
        c.Drop = _ => false;
        c.Delivered.Clear();
        c.TickAll(3);

        var chunks = c.Delivered.Where(m => m.Type == MessageType.Snapshot && m.To == 3).ToList();
        Assert.Equal(expectedChunks, chunks.Count);
        Assert.All(chunks, m => Assert.True(m.Snapshot!.Data.Length <= chunkSize));
        Assert.Equal(Enumerable.Range(0, expectedChunks).Select(i => (ulong)(i * chunkSize)), chunks.Select(m => m.ChunkOffset));

        var installed = Assert.Single(c.InstalledSnapshots);
        Assert.Equal(data, installed.Data.ToArray());
        Assert.Equal(c.Storage(1).Snapshot().Metadata.Index, installed.Metadata.Index);
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
        Assert.Equal(ProgressState.Replicate, c[1].Status().Progress[3].State);

        // And it keeps replicating from the log afterwards.
        c[1].Propose(new byte[] { 77 });
        c.Deliver();
        Assert.Equal(77, c.AppliedData(3).Last().Data.Span[0]);
    }

    [Fact]
    public void LostChunkIsResentAndTransferResumesWhereItStopped()
    {
        var c = LaggingFollowerCluster(100, 1000, out var data);
        var offsets = StreamLosingChunkOnce(c, 500);

        // Chunks before the loss are not resent: the stream resumes at 500.
        Assert.Equal(new ulong[] { 0, 100, 200, 300, 400, 500, 600, 700, 800, 900 }, offsets);
        Assert.Equal(data, Assert.Single(c.InstalledSnapshots).Data.ToArray());
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void WindowedStreamSendsEachChunkOnceWithoutLoss(int window)
    {
        var c = LaggingFollowerCluster(100, 1000, out var data, window);
        c.Drop = _ => false;
        c.Delivered.Clear();
        c.TickAll(3);
        var offsets = c.Delivered.Where(m => m.Type == MessageType.Snapshot).Select(m => m.ChunkOffset).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (ulong)(i * 100)), offsets);
        Assert.Equal(data, Assert.Single(c.InstalledSnapshots).Data.ToArray());
    }

    [Fact]
    public void WindowKeepsSeveralChunksUnacknowledgedOnceTheFollowerAnswered()
    {
        var c = LaggingFollowerCluster(100, 1000, out _, window: 4);
        c.Drop = _ => false;

        // Hold back every acknowledgement: the leader sends one chunk blind, and only that one.
        var held = new List<Message>();
        c.Drop = m =>
        {
            if (m.Type == MessageType.SnapshotResponse)
            {
                held.Add(m);
                return true;
            }

            return false;
        };
        c.Delivered.Clear();
        for (var t = 0; t < 10 && held.Count == 0; t++)
        {
            c.TickAll(1);
        }

        Assert.Equal([0UL], c.Delivered.Where(m => m.Type == MessageType.Snapshot).Select(m => m.ChunkOffset));

        // Its acknowledgement opens the window: four chunks out at once before any further answer.
        c.Drop = m => m.Type == MessageType.SnapshotResponse;
        c.Delivered.Clear();
        c[1].Step(Assert.Single(held));
        c.Deliver();
        Assert.Equal([100UL, 200UL, 300UL, 400UL], c.Delivered.Where(m => m.Type == MessageType.Snapshot).Select(m => m.ChunkOffset));
    }

    [Fact]
    public void LostChunkInsideTheWindowIsResentOnceWithWhatFollowedIt()
    {
        var c = LaggingFollowerCluster(100, 1000, out var data, window: 8);
        var offsets = StreamLosingChunkOnce(c, 300);

        // Nothing before the loss is resent; the chunks in flight behind it are rejected, and the stream rewinds to
        // the gap once, not once per rejection.
        Assert.All(offsets.Where(o => o < 300).GroupBy(o => o), g => Assert.Single(g));
        Assert.All(offsets.Where(o => o >= 300).GroupBy(o => o), g => Assert.InRange(g.Count(), 1, 2));
        Assert.Equal(data, Assert.Single(c.InstalledSnapshots).Data.ToArray());
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
    }

    [Fact]
    public void FailureReportResumesFromLastAcknowledgedOffsetOnNextHeartbeat()
    {
        var c = LaggingFollowerCluster(100, 1000, out var data);
        c.Drop = m => m.Type == MessageType.Snapshot && m.ChunkOffset == 300;
        c.TickAll(2);
        c[1].ReportSnapshot(3, SnapshotStatus.Failure);
        c.Drop = _ => false;
        c.Delivered.Clear();
        c.TickAll(2);
        var offsets = c.Delivered.Where(m => m.Type == MessageType.Snapshot).Select(m => m.ChunkOffset).ToList();
        Assert.Equal(300UL, offsets[0]);
        Assert.Equal(data, Assert.Single(c.InstalledSnapshots).Data.ToArray());
    }

    [Fact]
    public void FollowerRestartMidTransferMakesLeaderRestartFromZero()
    {
        var c = LaggingFollowerCluster(100, 1000, out var data);
        var restarted = false;
        c.Drop = m => m.Type == MessageType.Snapshot && m.ChunkOffset >= 400 && !restarted;
        c.TickAll(2);
        c.Restart(3);
        restarted = true;
        c.Delivered.Clear();
        c.TickAll(25);
        var responses = c.Delivered.Where(m => m.Type == MessageType.SnapshotResponse).ToList();
        Assert.Contains(responses, m => m.Reject && m.ChunkOffset == 0);
        Assert.Equal(data, Assert.Single(c.InstalledSnapshots).Data.ToArray());
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
    }

    [Fact]
    public void NewLeaderResumesSameSnapshotFromFollowersPrefix()
    {
        var c = LaggingFollowerCluster(100, 1000, out var data);

        // Node 2 holds the same snapshot (same index and term) so a new leader 2 streams the same bytes.
        c.Compact(2, c[2].AppliedIndex);
        Assert.Equal(c.Storage(1).Snapshot().Metadata, c.Storage(2).Snapshot().Metadata);
        c.Drop = m => m.Type == MessageType.Snapshot && m.ChunkOffset >= 400;
        c.TickAll(2);

        // Leader 1 goes away; node 2 takes over (node 3's lease on 1 must lapse first).
        c.Drop = m => m.From == 1 || m.To == 1;
        c.Delivered.Clear();
        for (var t = 0; t < 60 && !c[2].IsLeader; t++)
        {
            c.TickAll();
            if (!c[2].IsLeader && c[2].Role == StateRole.Follower && t > 25)
            {
                c[2].Campaign();
            }
        }

        Assert.True(c[2].IsLeader);
        c.TickAll(15);
        var fromTwo = c.Delivered.Where(m => m.Type == MessageType.Snapshot && m.From == 2).Select(m => m.ChunkOffset).Distinct().ToList();
        Assert.DoesNotContain(100UL, fromTwo);
        Assert.Contains(400UL, fromTwo);
        Assert.Equal(data, Assert.Single(c.InstalledSnapshots).Data.ToArray());
    }

    [Fact]
    public void SnapshotOlderThanFollowersCommitIsAnsweredWithCommit()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        for (var i = 0; i < 5; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        c.Deliver();
        var follower = c[2];
        var commit = follower.CommitIndex;
        follower.Step(new Message
        {
            Type = MessageType.Snapshot, From = 1, To = 2, Term = leader.Term, Index = 2, LogTerm = 1,
            Snapshot = new Snapshot(new SnapshotMetadata(2, 1, new ConfState(1, 2, 3)), new byte[] { 1 }), SnapshotSize = 1,
        });
        var rd = follower.GetReady();
        Assert.Null(rd.Snapshot);
        var resp = Assert.Single(rd.Messages.ToArray());
        Assert.Equal(MessageType.AppendResponse, resp.Type);
        Assert.Equal(commit, resp.Index);
        follower.Advance(rd);
    }
}
