using NoKv.Raft.Messages;
using NoKv.Raft.Snapshots;
using NoKv.Raft.Storage;
using NoKv.Raft.Tracker;
using Xunit;

namespace NoKv.Raft.Tests.Core;

/// <summary>
/// Snapshots whose bytes live outside memory (a payload read a chunk at a time on the leader, a sink written a chunk at
/// a time on the follower): neither side may hold more of a snapshot than the window of chunks in flight.
/// </summary>
public class SnapshotPayloadTests
{
    private const int Chunk = 100;
    private const int Window = 4;

    /// <summary>A payload that counts the bytes read from it and whether it was released.</summary>
    private sealed class CountingPayload(byte[] data) : SnapshotPayload
    {
        public long BytesRead { get; private set; }

        public int Disposals { get; private set; }

        public override long Length => data.Length;

        public override void ReadAt(long offset, Span<byte> destination)
        {
            Assert.Equal(0, Disposals);
            CheckRange(offset, destination.Length);
            data.AsSpan((int)offset, destination.Length).CopyTo(destination);
            BytesRead += destination.Length;
        }

        protected override void Dispose(bool disposing) => Disposals++;
    }

    /// <summary>A sink that keeps the bytes for the test (not the node) and records what it was given.</summary>
    private sealed class RecordingSink : SnapshotSink
    {
        private readonly MemoryStream bytes = new();

        public int LargestAppend { get; private set; }

        public bool Completed { get; private set; }

        public int Disposals { get; private set; }

        public override long Length => bytes.Length;

        public override void Append(ReadOnlySpan<byte> chunk)
        {
            LargestAppend = Math.Max(LargestAppend, chunk.Length);
            bytes.Write(chunk);
        }

        public override SnapshotPayload Complete()
        {
            Completed = true;
            return new CountingPayload(bytes.ToArray());
        }

        protected override void Dispose(bool disposing) => Disposals++;
    }

    /// <summary>Reads the storage's snapshot as a fresh counting payload each time it is asked (as a host exports anew).</summary>
    private sealed class PayloadStorage(MemoryRaftStorage inner, List<CountingPayload> handedOut) : IRaftStorage
    {
        public RaftInitialState InitialState() => inner.InitialState();

        public void Entries(ulong lo, ulong hi, ulong maxSize, List<Entry> output) => inner.Entries(lo, hi, maxSize, output);

        public ulong Term(ulong i) => inner.Term(i);

        public ulong FirstIndex() => inner.FirstIndex();

        public ulong LastIndex() => inner.LastIndex();

        public Snapshot Snapshot()
        {
            var snapshot = inner.Snapshot();
            var payload = new CountingPayload(snapshot.Data.ToArray());
            handedOut.Add(payload);
            return new Snapshot(snapshot.Metadata, payload);
        }
    }

    private static TestCluster Cluster(int size, List<CountingPayload> handedOut, List<RecordingSink> sinks, out byte[] data, bool reuseBuffers = false)
    {
        var bytes = new byte[size];
        new Random(7).NextBytes(bytes);
        data = bytes;
        var c = new TestCluster(
            3,
            id => TestCluster.DefaultConfig(id) with
            {
                SnapshotChunkSize = Chunk,
                SnapshotChunksInFlight = Window,
                ReuseMessageEntryBuffers = reuseBuffers,
                SnapshotSinkFactory = (_, _) =>
                {
                    var sink = new RecordingSink();
                    sinks.Add(sink);
                    return sink;
                },
            },
            storageView: (id, storage) => id == 1 ? new PayloadStorage(storage, handedOut) : storage);
        c.SnapshotData = _ => bytes;
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

    /// <param name="reuseBuffers">Chunk arrays rented from the pool and given back at the next GetReady: the bytes the
    /// follower staged must still be the snapshot's.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_snapshot_larger_than_the_window_is_read_and_staged_a_window_at_a_time(bool reuseBuffers)
    {
        var handedOut = new List<CountingPayload>();
        var sinks = new List<RecordingSink>();
        var c = Cluster(50 * Chunk + 37, handedOut, sinks, out var data, reuseBuffers);

        // Every message delivered is a point to check: the leader has read no more of its payload than the follower
        // holds plus the window, and the follower's node passes each chunk on as it arrives.
        long largestLead = 0;
        c.Drop = m =>
        {
            if (handedOut.Count > 0 && sinks.Count > 0)
            {
                long lead = handedOut[^1].BytesRead - sinks[^1].Length;
                largestLead = Math.Max(largestLead, lead);
                Assert.True(lead <= Window * Chunk, $"leader read {lead} bytes ahead of the follower, more than the window");
            }

            return false;
        };
        c.TickAll(3);

        var payload = Assert.Single(handedOut);
        var sink = Assert.Single(sinks);
        Assert.Equal(data.Length, payload.BytesRead);          // each chunk read once, when sent
        Assert.True(largestLead > Chunk, "the stream never had more than one chunk in flight");
        Assert.True(sink.Completed);
        Assert.Equal(Chunk, sink.LargestAppend);
        Assert.Equal(1, payload.Disposals);                    // released once the follower caught up

        var installed = Assert.Single(c.InstalledSnapshots);
        var staged = Assert.IsType<CountingPayload>(installed.Payload);
        Assert.Equal(data.Length, staged.Length);
        var copy = new byte[staged.Length];
        staged.ReadAt(0, copy);
        Assert.Equal(data, copy);
        Assert.Equal(0, staged.Disposals);                     // the host's to install and release
        Assert.Equal(ProgressState.Replicate, c[1].Status().Progress[3].State);
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
    }

    [Fact]
    public void A_new_term_releases_the_leaders_payload_and_a_superseding_snapshot_releases_the_followers_sink()
    {
        var handedOut = new List<CountingPayload>();
        var sinks = new List<RecordingSink>();
        var c = Cluster(50 * Chunk, handedOut, sinks, out _);

        // Let three chunks through, then cut node 3 off again mid-stream.
        int chunks = 0;
        c.Drop = m => m.Type == MessageType.Snapshot && ++chunks > 3;
        c.TickAll(2);
        var first = Assert.Single(handedOut);
        var firstSink = Assert.Single(sinks);
        Assert.Equal(3 * Chunk, firstSink.Length);
        Assert.Equal(0, first.Disposals);

        // Node 2 takes over: node 1's progress (and the payload it streams) goes with its leadership.
        c.Drop = m => m.To == 3 || m.From == 3;
        Assert.True(c[1].TransferLeadership(2).IsAccepted);
        c.Deliver();
        Assert.True(c[2].IsLeader);
        Assert.Equal(1, first.Disposals);

        // Node 2 compacts at a later index: its snapshot is a different one, and node 3 drops the staged prefix.
        c[2].Propose(new byte[] { 99 });
        c.Deliver();
        c.Compact(2, c[2].AppliedIndex);
        c.Drop = _ => false;
        c.TickAll(3);
        Assert.Equal(1, firstSink.Disposals);
        Assert.False(firstSink.Completed);
        Assert.Equal(c[2].LastIndex, c[3].LastIndex);
    }
}
