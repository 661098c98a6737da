using System.Runtime.InteropServices;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Raft.Tests.Core;

/// <summary>Ownership of the arrays behind Append messages' Entries (RaftConfig.ReuseMessageEntryBuffers).</summary>
public class MessageBufferTests
{
    [Fact]
    public void ByDefaultAKeptMessageNeverChangesWhileReplicationGoesOn()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(new byte[] { 42 });
        var kept = c.TakeInFlight().Single(m => m.Type == MessageType.Append && m.To == 2);
        var expected = kept.Entries.ToArray();
        c.Enqueue(kept);
        c.Deliver();

        for (var i = 0; i < 300; i++)
        {
            leader.Propose(new byte[] { (byte)i });
            c.Deliver();
        }

        Assert.Equal(expected, kept.Entries.ToArray());

        // A late duplicate of the kept message is still harmless.
        c.Enqueue(kept);
        c.Deliver();
        Assert.Equal(leader.CommitIndex, c[2].CommitIndex);
    }

    [Fact]
    public void RecycledEntryBuffersReplicateCorrectlyWithAHandfulOfArrays()
    {
        // Small messages and a small window: acknowledgements make the leader send (and rent) more while
        // earlier Appends are still waiting to be stepped.
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { ReuseMessageEntryBuffers = true, MaxSizePerMsg = 64, MaxInflightMsgs = 2 });
        var leader = c.Elect(1);
        c.Delivered.Clear();
        for (var i = 0; i < 300; i++)
        {
            // Alternate single proposals and bursts so batches of different sizes share the arrays.
            var burst = i % 3 == 0 ? 9 : 1;
            for (var k = 0; k < burst; k++)
            {
                Assert.True(leader.Propose(new byte[] { (byte)i, (byte)k }).IsAccepted);
            }

            DeliverNewestFirst(c);
        }

        var appends = c.Delivered.Where(m => m.Type == MessageType.Append && !m.Entries.IsEmpty).ToList();
        var arrays = new HashSet<Entry[]>(ReferenceEqualityComparer.Instance);
        foreach (var m in appends)
        {
            Assert.True(MemoryMarshal.TryGetArray(m.Entries, out var segment));
            arrays.Add(segment.Array!);
        }

        Assert.True(appends.Count >= 1000, $"only {appends.Count} appends");
        Assert.True(arrays.Count <= 8, $"{arrays.Count} distinct arrays for {appends.Count} appends");
        var applied1 = c.AppliedData(1).Select(e => Convert.ToHexString(e.Data.Span)).ToList();
        Assert.Equal(1100, applied1.Count);
        Assert.Equal(applied1, c.AppliedData(2).Select(e => Convert.ToHexString(e.Data.Span)));
        Assert.Equal(applied1, c.AppliedData(3).Select(e => Convert.ToHexString(e.Data.Span)));
    }

    /// <summary>
    /// Steps each Ready's messages newest first (answers before the leader's Appends), without calling GetReady in
    /// between, as the reuse contract allows: the leader's sends while stepping answers must not overwrite the
    /// arrays of Appends still waiting.
    /// </summary>
    private static void DeliverNewestFirst(TestCluster c)
    {
        for (var round = 0; round < 1000; round++)
        {
            var batch = c.TakeInFlight();
            if (batch.Count == 0 && !c.Nodes.Values.Any(n => n.HasReady()))
            {
                return;
            }

            for (var i = batch.Count - 1; i >= 0; i--)
            {
                c.Delivered.Add(batch[i]);
                c[batch[i].To].Step(batch[i]);
            }
        }

        throw new InvalidOperationException("The cluster did not quiesce.");
    }
}
