using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class ElectionTests
{
    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(7, 4)]
    public void TickingElectsExactlyOneLeader(int size, int seed)
    {
        var c = new TestCluster(size, id => TestCluster.DefaultConfig(id, seed));
        for (var t = 0; t < 100 && !c.Nodes.Values.Any(n => n.IsLeader); t++)
        {
            c.TickAll();
        }

        var leaders = c.Nodes.Values.Where(n => n.IsLeader).ToList();
        Assert.Single(leaders);
        var leader = leaders[0];
        Assert.All(c.Nodes.Values, n => Assert.Equal(leader.Id, n.Lead));
        Assert.All(c.Nodes.Values, n => Assert.Equal(leader.Term, n.Term));
    }

    [Fact]
    public void RandomizedElectionTimeoutStaysInRange()
    {
        var storage = new MemoryRaftStorage(new ConfState(1, 2, 3));
        var seen = new HashSet<int>();
        for (var seed = 0; seed < 200; seed++)
        {
            var node = new RawNode(TestCluster.DefaultConfig(1, seed), storage);
            var timeout = node.Core.RandomizedElectionTimeout;
            Assert.InRange(timeout, 10, 19);
            seen.Add(timeout);
        }

        Assert.True(seen.Count > 5, "timeouts should actually be randomized");
    }

    [Fact]
    public void FollowerCampaignsAfterItsRandomizedTimeout()
    {
        var storage = new MemoryRaftStorage(new ConfState(1, 2, 3));
        var node = new RawNode(TestCluster.DefaultConfig(1, 7) with { }, storage);
        var timeout = node.Core.RandomizedElectionTimeout;
        for (var i = 0; i < timeout - 1; i++)
        {
            node.Tick();
        }

        Assert.Equal(StateRole.Follower, node.Role);
        node.Tick();
        Assert.Equal(StateRole.PreCandidate, node.Role);
        var rd = node.GetReady();
        var votes = rd.Messages.ToArray();
        Assert.Equal(2, votes.Length);
        Assert.All(votes, m => Assert.Equal(MessageType.PreVote, m.Type));
        Assert.All(votes, m => Assert.Equal(1UL, m.Term));
        Assert.Equal(0UL, node.Term);
        node.Advance(rd);
    }

    // Raft §5.4.1: a vote is granted only to a candidate whose log is at least as up to date.
    [Theory]
    [InlineData(2UL, 3UL, true)]   // higher last term wins even with a shorter log
    [InlineData(1UL, 3UL, true)]   // same last term, longer log
    [InlineData(1UL, 2UL, true)]   // same last term, same length
    [InlineData(1UL, 1UL, false)]  // same last term, shorter log
    [InlineData(0UL, 5UL, false)]  // lower last term
    public void VoteRequiresUpToDateLog(ulong candidateLastTerm, ulong candidateLastIndex, bool granted)
    {
        var storage = new MemoryRaftStorage();
        storage.SetConfState(new ConfState(1, 2, 3));
        storage.Append([new Entry(1, 1, default), new Entry(1, 2, default)]);
        storage.SetHardState(new HardState(1, 0, 0));
        var node = new RawNode(TestCluster.DefaultConfig(1) with { }, storage);

        // Not in any lease: the node has never heard from a leader in this process, but restarted
        // with a term, so let the startup guard lapse first.
        for (var i = 0; i < 10; i++)
        {
            node.Tick();
            Drain(node);
        }

        node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 5, Index = candidateLastIndex, LogTerm = candidateLastTerm });
        var rd = node.GetReady();
        var resp = Assert.Single(rd.Messages.ToArray(), m => m.Type == MessageType.VoteResponse);
        Assert.Equal(!granted, resp.Reject);
        Assert.Equal(5UL, node.Term);
        Assert.Equal(granted ? 2UL : 0UL, rd.HardState!.Value.Vote);
        node.Advance(rd);
    }

    [Fact]
    public void VoteSurvivesRestartSoNoDoubleVoteInATerm()
    {
        var storage = new MemoryRaftStorage(new ConfState(1, 2, 3));
        var node = new RawNode(TestCluster.DefaultConfig(1) with { CheckQuorum = false }, storage);
        node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 3, Index = 3 });
        var rd = node.GetReady();
        Assert.True(rd.MustSync);
        storage.SetHardState(rd.HardState!.Value);
        Assert.False(rd.Messages.Span[0].Reject);
        node.Advance(rd);

        // Crash and restart from storage; candidate 3 asks for a vote in the same term.
        var restarted = new RawNode(TestCluster.DefaultConfig(1) with { CheckQuorum = false }, storage);
        Assert.Equal(3UL, restarted.Term);
        restarted.Step(new Message { Type = MessageType.Vote, From = 3, To = 1, Term = 3, Index = 3 });
        var rd2 = restarted.GetReady();
        Assert.True(rd2.Messages.Span[0].Reject);

        // A retransmitted request from the candidate we voted for is granted again.
        restarted.Advance(rd2);
        restarted.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 3, Index = 3 });
        var rd3 = restarted.GetReady();
        Assert.False(rd3.Messages.Span[0].Reject);
        restarted.Advance(rd3);
    }

    [Fact]
    public void CandidateWithMinorityOfVotesStepsDown()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { PreVote = false });
        c.Drop = m => m.Type == MessageType.VoteResponse && !m.Reject && m.To == 1;
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Candidate, c.Nodes[1].Role);

        // Rejections from both peers: the election is lost.
        c.Drop = _ => false;
        c.Enqueue(new Message { Type = MessageType.VoteResponse, From = 2, To = 1, Term = 1, Reject = true });
        c.Enqueue(new Message { Type = MessageType.VoteResponse, From = 3, To = 1, Term = 1, Reject = true });
        c.Deliver();
        Assert.Equal(StateRole.Follower, c.Nodes[1].Role);
    }

    [Fact]
    public void SingleVoterElectsItselfAndCommits()
    {
        var c = new TestCluster(1);
        var leader = c.Elect(1);
        var r = leader.Propose(new byte[] { 9 });
        c.Deliver();
        Assert.Equal(r.Index, c.Nodes[1].CommitIndex);
        Assert.Single(c.AppliedData(1));
    }

    [Fact]
    public void NewLeaderCommitsAnEmptyEntryOfItsTerm()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(2);
        // Indexes 1..3 hold the bootstrap membership; the leader's empty entry follows.
        Assert.Equal(4UL, leader.CommitIndex);
        var first = c.Applied[2][^1];
        Assert.Equal(leader.Term, first.Term);
        Assert.True(first.Data.IsEmpty);
    }

    [Fact]
    public void StaleLeaderStepsDownWhenItHearsAHigherTerm()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Drop = m => m.From == 1 || m.To == 1;
        for (var t = 0; t < 50 && !(c[2].IsLeader || c[3].IsLeader); t++)
        {
            c.TickAll();
        }

        Assert.True(c[2].IsLeader || c[3].IsLeader);
        var newTerm = Math.Max(c[2].Term, c[3].Term);
        c.Drop = _ => false;
        for (var t = 0; t < 5; t++)
        {
            c.TickAll();
        }

        Assert.False(c[1].IsLeader);
        Assert.Equal(newTerm, c[1].Term);
    }

    private static void Drain(RawNode node)
    {
        while (node.HasReady())
        {
            node.Advance(node.GetReady());
        }
    }
}
