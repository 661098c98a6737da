using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using NoKv.Raft.Tracker;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class ReplicationTests
{
    [Fact]
    public void ManyProposalsBetweenReadiesGoOutAsOneAppendPerFollower()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.Delivered.Clear();
        for (var i = 0; i < 100; i++)
        {
            leader.Propose(new byte[100]);
        }

        var msgs = c.TakeInFlight().Where(m => m.Type == MessageType.Append).ToList();
        Assert.Equal(2, msgs.Count);
        Assert.All(msgs, m => Assert.Equal(100, m.Entries.Length));
    }

    [Fact]
    public void BatchesRespectMaxSizePerMsg()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { MaxSizePerMsg = 10 * (100 + 24) });
        var leader = c.Elect(1);
        for (var i = 0; i < 95; i++)
        {
            leader.Propose(new byte[100]);
        }

        var appends = c.TakeInFlight().Where(m => m.Type == MessageType.Append && m.To == 2).ToList();
        Assert.Equal(10, appends.Count);
        Assert.All(appends.Take(9), m => Assert.Equal(10, m.Entries.Length));
        Assert.Equal(5, appends[^1].Entries.Length);

        // The window is pipelined: consecutive messages continue where the previous stopped.
        for (var i = 1; i < appends.Count; i++)
        {
            Assert.Equal(appends[i - 1].Entries.Span[^1].Index, appends[i].Index);
        }
    }

    [Fact]
    public void InflightWindowBoundsUnacknowledgedAppends()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { MaxSizePerMsg = 0, MaxInflightMsgs = 4 });
        var leader = c.Elect(1);
        for (var i = 0; i < 20; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        var toTwo = c.TakeInFlight().Where(m => m.Type == MessageType.Append && m.To == 2).ToList();
        Assert.Equal(4, toTwo.Count);
        Assert.All(toTwo, m => Assert.Equal(1, m.Entries.Length));
        Assert.Equal(ProgressState.Replicate, leader.Status().Progress[2].State);
        Assert.Equal(4, leader.Status().Progress[2].Inflight);

        // Delivering everything drains the window repeatedly until all 20 are replicated.
        foreach (var m in toTwo)
        {
            c.Enqueue(m);
        }

        c.Deliver();
        Assert.Equal(leader.LastIndex, leader.Status().Progress[2].Match);

        // Node 3's whole window was lost: a heartbeat answer prompts an empty Append whose rejection
        // (or ack) unblocks the pipeline.
        Assert.Equal(leader.CommitIndex - 20, leader.Status().Progress[3].Match);
        c.TickAll(3);
        Assert.Equal(leader.LastIndex, leader.Status().Progress[3].Match);
    }

    [Fact]
    public void InflightBytesBoundWhatAFollowerFarBehindIsSentAtOnce()
    {
        // Messages of 10 entries (1240 bytes counted each); the window allows 256 messages but only 3000 bytes.
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { MaxSizePerMsg = 10 * (100 + 24), MaxInflightBytes = 3000 });
        var leader = LeaveNodeThreeBehind(c, 200, _ => new byte[100]);
        Assert.True(leader.LastIndex - leader.Status().Progress[3].Match >= 200);

        // One hop at a time: a heartbeat, node 3's answer, an append it rejects (its window was lost), a probe and
        // its acknowledgement. What the leader sends in the hop that moves node 3 from probe to replicate is the window.
        leader.Tick();
        List<Message> window = [];
        for (var hop = 0; hop < 12 && window.Count == 0; hop++)
        {
            var taken = c.TakeInFlight();
            var before = leader.Status().Progress[3].State;
            foreach (var m in taken)
            {
                c.Nodes[m.To].Step(m);
            }

            if (before == ProgressState.Probe && leader.Status().Progress[3].State == ProgressState.Replicate)
            {
                window = c.TakeInFlight().Where(m => m.Type == MessageType.Append && m.To == 3).ToList();
            }
        }

        Assert.Equal(3, window.Count);
        Assert.All(window, m => Assert.Equal(10, m.Entries.Length));

        // Acknowledgements keep the pipeline going until node 3 has everything.
        foreach (var m in window)
        {
            c.Enqueue(m);
        }

        c.Deliver();
        Assert.Equal(leader.LastIndex, leader.Status().Progress[3].Match);
    }

    [Fact]
    public void ReadIndexRoundsWithinOneTickPromptAtMostOneAppendToALaggingFollower()
    {
        var c = new TestCluster(3);
        var leader = LeaveNodeThreeBehind(c, 20, i => [(byte)i]);

        // Ten read-index rounds in one tick: each is a heartbeat round that node 3 answers.
        var answers = new List<Message>();
        for (var round = 0; round < 10; round++)
        {
            leader.ReadIndex(BitConverter.GetBytes((long)round));
            foreach (var m in c.TakeInFlight().Where(m => m.Type == MessageType.Heartbeat && m.To == 3))
            {
                c.Nodes[3].Step(m);
            }

            answers.AddRange(c.TakeInFlight().Where(m => m.Type == MessageType.HeartbeatResponse && m.From == 3));
        }

        Assert.Equal(10, answers.Count);
        foreach (var answer in answers)
        {
            leader.Step(answer);
        }

        Assert.Single(c.TakeInFlight(), m => m.Type == MessageType.Append && m.To == 3);

        // The next tick's answers may prompt again, and node 3 catches up.
        c.TickAll(2);
        Assert.Equal(leader.LastIndex, leader.Status().Progress[3].Match);
    }

    [Fact]
    public void FollowerRejectsAppendThatDoesNotMatchAndLeaderBacksUp()
    {
        var c = new TestCluster(3);
        var leader = LeaveNodeThreeBehind(c, 20, i => [(byte)i]);
        c.Delivered.Clear();
        c.TickAll(3);
        Assert.Equal(leader.LastIndex, c[3].LastIndex);
        Assert.Equal(c.AppliedData(1).Select(e => e.Data.Span[0]), c.AppliedData(3).Select(e => e.Data.Span[0]));
    }

    /// <summary>
    /// The lab's "fast backup": a follower holding a long divergent suffix from an old term converges
    /// in a number of rejections bounded by the number of distinct terms, not the number of entries.
    /// </summary>
    [Fact]
    public void FastBacktrackingSkipsWholeTermsOfConflictingEntries()
    {
        // Node 3 holds 1 entry of term 1 and then 50 entries of term 2 that were never committed.
        // Nodes 1 and 2 hold the same term-1 entry and then 50 entries of term 3.
        var conf = new ConfState(1, 2, 3);
        var storages = new Dictionary<ulong, MemoryRaftStorage>();
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            var s = new MemoryRaftStorage();
            s.SetConfState(conf);
            s.Append([new Entry(1, 1, new byte[] { 0 })]);
            var term = id == 3 ? 2UL : 3UL;
            var entries = Enumerable.Range(2, 50).Select(i => new Entry(term, (ulong)i, new byte[] { (byte)i })).ToArray();
            s.Append(entries);
            s.SetHardState(new HardState(3, 0, 1));
            storages[id] = s;
        }

        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { CheckQuorum = false });
        foreach (var (id, s) in storages)
        {
            ReplaceStorage(c, id, s);
        }

        c.Elect(1);
        c.Deliver();
        var rejections = c.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.Reject && m.From == 3);
        Assert.InRange(rejections, 1, 2);
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
        var log1 = Log(storages[1], c[1].LastIndex);
        var log3 = Log(storages[3], c[3].LastIndex);
        Assert.Equal(log1.Select(e => (e.Term, e.Index)), log3.Select(e => (e.Term, e.Index)));
    }

    /// <summary>The follower is the one with the longer, higher-term log tail that must be cut.</summary>
    [Fact]
    public void FollowerWithExtraUncommittedEntriesTruncatesThem()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { CheckQuorum = false });
        var leader = c.Elect(1);
        leader.Propose(new byte[] { 1 });
        c.Deliver();

        // Leader 1 appends entries only it has, then is cut off.
        c.Drop = m => m.From == 1 || m.To == 1;
        for (var i = 0; i < 10; i++)
        {
            leader.Propose(new byte[] { 0xEE });
        }

        c.ProcessReadies();
        c.Elect(2);
        c[2].Propose(new byte[] { 2 });
        c.Deliver();
        c.Drop = _ => false;
        c.TickAll(5);
        Assert.Equal(c[2].LastIndex, c[1].LastIndex);
        Assert.DoesNotContain(c.AppliedData(1), e => e.Data.Span[0] == 0xEE);
        Assert.Equal(c.AppliedData(2).Select(e => e.Data.Span[0]), c.AppliedData(1).Select(e => e.Data.Span[0]));
    }

    [Fact]
    public void CommitNeedsAQuorumAndAnEntryOfTheCurrentTerm()
    {
        var c = new TestCluster(5);
        var leader = c.Elect(1);
        var before = leader.CommitIndex;
        c.Drop = m => m.To is 3 or 4 or 5;
        leader.Propose(new byte[] { 1 });
        c.Deliver();
        Assert.Equal(before, leader.CommitIndex);
        c.Drop = m => m.To is 4 or 5;
        c.TickAll(2);
        Assert.Equal(before + 1, leader.CommitIndex);
    }

    [Fact]
    public void UncommittedSizeLimitRefusesProposals()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { MaxUncommittedEntriesSize = 1000 });
        var leader = c.Elect(1);
        c.Drop = m => m.From != 1;
        var accepted = 0;
        ProposalResult last = default;
        for (var i = 0; i < 20; i++)
        {
            last = leader.Propose(new byte[100]);
            if (last.IsAccepted)
            {
                accepted++;
            }
        }

        Assert.Equal(10, accepted);
        Assert.Equal(ProposalStatus.UncommittedSizeExceeded, last.Status);
        c.Drop = _ => false;
        c.TickAll(2);
        Assert.True(leader.Propose(new byte[100]).IsAccepted);
    }

    [Fact]
    public void FollowerAnswersNotLeaderWithHint()
    {
        var c = new TestCluster(3);
        c.Elect(2);
        var r = c[1].Propose(new byte[] { 1 });
        Assert.Equal(ProposalStatus.NotLeader, r.Status);
        Assert.Equal(2UL, r.LeaderHint);
    }

    [Fact]
    public void UnreachableFollowerIsProbed()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(new byte[] { 1 });
        c.Deliver();
        Assert.Equal(ProgressState.Replicate, leader.Status().Progress[2].State);
        leader.ReportUnreachable(2);
        Assert.Equal(ProgressState.Probe, leader.Status().Progress[2].State);
        c.TickAll(2);
        Assert.Equal(ProgressState.Replicate, leader.Status().Progress[2].State);
    }

    [Fact]
    public void RestartedNodeKeepsItsLogAndCatchesUp()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        for (var i = 0; i < 5; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        c.Deliver();
        var last = c[3].LastIndex;
        c.Restart(3);
        Assert.Equal(last, c[3].LastIndex);
        Assert.Equal(c[1].Term, c[3].Term);
        leader.Propose(new byte[] { 9 });
        c.TickAll(2);
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
        Assert.Equal(c[1].CommitIndex, c[3].CommitIndex);
    }

    internal static List<Entry> Log(MemoryRaftStorage s, ulong last)
    {
        var list = new List<Entry>();
        s.Entries(s.FirstIndex(), last + 1, ulong.MaxValue, list);
        return list;
    }

    internal static void ReplaceStorage(TestCluster c, ulong id, MemoryRaftStorage storage)
    {
        var field = typeof(TestCluster).GetField("storages", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        ((Dictionary<ulong, MemoryRaftStorage>)field.GetValue(c)!)[id] = storage;
        c.Nodes[id] = new RawNode(c.Configure(id), storage);
    }

    /// <summary>Elects node 1 and commits <paramref name="proposals"/> entries that node 3 never receives.</summary>
    private static RawNode LeaveNodeThreeBehind(TestCluster c, int proposals, Func<int, byte[]> payload)
    {
        var leader = c.Elect(1);
        c.Drop = m => m.To == 3;
        for (var i = 0; i < proposals; i++)
        {
            leader.Propose(payload(i));
            c.Deliver();
        }

        c.Drop = _ => false;
        return leader;
    }
}
