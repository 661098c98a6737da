using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class PreVoteAndCheckQuorumTests
{
    [Fact]
    public void PartitionedNodeWithPreVoteDoesNotInflateItsTerm()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        var term = leader.Term;
        c.Drop = m => m.From == 3 || m.To == 3;
        c.TickAll(100);
        Assert.Equal(term, c[3].Term);
        Assert.Equal(StateRole.PreCandidate, c[3].Role);

        // Healing does not disturb the leader.
        c.Drop = _ => false;
        c.TickAll(5);
        Assert.True(c[1].IsLeader);
        Assert.Equal(term, c[1].Term);
        Assert.Equal(1UL, c[3].Lead);
    }

    [Fact]
    public void WithoutPreVoteAPartitionedNodeDisruptsTheLeaderOnRejoin()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { PreVote = false, CheckQuorum = false });
        var leader = c.Elect(1);
        var term = leader.Term;
        c.Drop = m => m.From == 3 || m.To == 3;
        c.TickAll(30);
        Assert.True(c[3].Term > term);
        c.Drop = _ => false;
        c.TickAll(40);
        Assert.True(c[1].Term > term, "the rejoining node's higher term forces a new election");
    }

    [Fact]
    public void PreVoteIsRefusedByAFollowerThatHearsFromItsLeader()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        var term = c[2].Term;
        c[2].Step(new Message { Type = MessageType.PreVote, From = 3, To = 2, Term = term + 1, Index = 100, LogTerm = term });
        Assert.False(c[2].HasReady() && c[2].GetReady() is var rd && Advance(c[2], rd).Any(m => m.Type == MessageType.PreVoteResponse && !m.Reject));
        Assert.Equal(term, c[2].Term);
    }

    [Fact]
    public void CheckQuorumLeaderStepsDownWhenIsolated()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.Drop = m => m.From == 1 || m.To == 1;
        c.TickAll(10);
        Assert.True(leader.IsLeader || leader.Role == StateRole.Follower);
        c.TickAll(11);
        Assert.Equal(StateRole.Follower, c[1].Role);
        Assert.Equal(0UL, c[1].Lead);
    }

    [Fact]
    public void LeaderWithoutCheckQuorumStaysLeaderWhenIsolated()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { CheckQuorum = false, PreVote = true });
        c.Elect(1);
        c.Drop = m => m.From == 1 || m.To == 1;
        c.TickAll(50);
        Assert.True(c[1].IsLeader);
    }

    [Fact]
    public void FollowerInLeaseIgnoresHigherTermVote()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        var term = c[2].Term;
        c[2].Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = term + 5, Index = 100, LogTerm = term });
        Assert.Equal(term, c[2].Term);
        Assert.Equal(1UL, c[2].Lead);
    }

    [Fact]
    public void RestartedNodeHonoursLeaseBeforeVoting()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        var term = c[2].Term;
        c.Restart(2);
        c[2].Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = term + 1, Index = 100, LogTerm = term });
        Assert.Equal(term, c[2].Term);
        for (var i = 0; i < 10; i++)
        {
            c[2].Tick();
            Drain(c[2]);
        }

        c[2].Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = term + 1, Index = 100, LogTerm = term });
        Assert.Equal(term + 1, c[2].Term);
    }

    [Fact]
    public void RestartedNodeThatForgotItsLeaderGrantsPreVotesOnceAnElectionTimeoutPassedSinceTheRestart()
    {
        // The restart guard lasts one election timeout from the restart. It used to last until the node first went an
        // election timeout without hearing from a leader, so a restarted follower that kept hearing heartbeats kept it,
        // and after its host forgot the leader (a hibernating group's failure detector) it ignored every pre-vote.
        var c = new TestCluster(3);
        c.Elect(1);
        var term = c[2].Term;
        c.Restart(2);
        c.TickAll(15); // the leader heartbeats every tick, so node 2's election clock never reaches a timeout
        Assert.Equal(1UL, c[2].Lead);
        c[2].ForgetLeader();
        c[2].Step(new Message { Type = MessageType.PreVote, From = 3, To = 2, Term = term + 1, Index = 100, LogTerm = term });
        Assert.True(c[2].HasReady());
        Assert.Contains(Advance(c[2], c[2].GetReady()), m => m.Type == MessageType.PreVoteResponse && m.To == 3 && !m.Reject);
    }

    [Theory]
    [InlineData(5UL, false)] // created at term 5 with every replica of its group (a split): no leader was ever elected in 5
    [InlineData(4UL, true)]  // its term is above the lease-free one: it may have acknowledged a leader before the crash
    [InlineData(0UL, true)]  // the default: every restart at a term above 0 honours the lease
    public void ANodeAtItsGroupsLeaseFreeTermGrantsVotesAtOnceAfterARestart(ulong leaseFreeTerm, bool refuses)
    {
        var storage = new MemoryRaftStorage();
        storage.SetConfState(new ConfState(1, 2, 3));
        storage.ApplySnapshot(new Snapshot(new SnapshotMetadata(5, 5, new ConfState(1, 2, 3)), ReadOnlyMemory<byte>.Empty));
        storage.SetHardState(new HardState(5, 0, 5));
        var node = new RawNode(TestCluster.DefaultConfig(1) with { LeaseFreeTerm = leaseFreeTerm }, storage);

        node.Step(new Message { Type = MessageType.PreVote, From = 2, To = 1, Term = 6, Index = 5, LogTerm = 5 });

        var granted = node.HasReady() && node.GetReady() is var rd && Advance(node, rd).Any(m => m.Type == MessageType.PreVoteResponse && m.To == 2 && !m.Reject);
        Assert.Equal(!refuses, granted);
    }

    [Fact]
    public void RestartedNodeThatForgotItsLeaderStillHonoursTheRestartGuard()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        var term = c[2].Term;
        c.Restart(2);
        c.TickAll(3);
        Assert.Equal(1UL, c[2].Lead);
        c[2].ForgetLeader();
        c[2].Step(new Message { Type = MessageType.PreVote, From = 3, To = 2, Term = term + 1, Index = 100, LogTerm = term });
        Assert.False(c[2].HasReady() && c[2].GetReady() is var rd && Advance(c[2], rd).Any(m => m.Type == MessageType.PreVoteResponse && !m.Reject));
    }

    [Fact]
    public void StaleLeaderLearnsNewTermFromAppendResponse()
    {
        // With check-quorum/pre-vote nobody sends the old leader a vote request; a follower answers its
        // stale Append with its term instead.
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { CheckQuorum = false });
        c.Elect(1);
        c.Drop = m => m.From == 1 || m.To == 1;
        c.Elect(2);
        c.Drop = _ => false;
        Assert.True(c[1].IsLeader);
        c[1].Propose(new byte[] { 1 });
        c.Deliver();
        Assert.False(c[1].IsLeader);
        Assert.Equal(c[2].Term, c[1].Term);
    }

    private static IEnumerable<Message> Advance(RawNode node, Ready rd)
    {
        var msgs = rd.Messages.ToArray();
        node.Advance(rd);
        return msgs;
    }

    private static void Drain(RawNode node)
    {
        while (node.HasReady())
        {
            node.Advance(node.GetReady());
        }
    }
}
