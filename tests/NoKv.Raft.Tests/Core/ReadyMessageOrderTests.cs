using System.Text;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Raft.Tests.Core;

/// <summary>
/// <see cref="Ready.MessagesBeforePersist"/>: only a leader's replication messages, in a Ready that changes
/// neither term nor vote, may leave before the Ready is persisted; acknowledgements and votes never do.
/// </summary>
public sealed class ReadyMessageOrderTests
{
    [Fact]
    public void LeaderAppendsMayLeaveBeforePersist()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(Encoding.UTF8.GetBytes("a"));
        leader.Propose(Encoding.UTF8.GetBytes("b"));

        var rd = leader.GetReady();
        Assert.False(rd.Entries.IsEmpty);
        Assert.True(rd.MustSync);
        Assert.Equal(2, rd.MessagesBeforePersist);
        foreach (var m in rd.Messages.Span)
        {
            Assert.Equal(MessageType.Append, m.Type);
        }

        leader.Advance(rd);
    }

    [Fact]
    public void FollowerAcknowledgementsNeverLeaveBeforePersist()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(Encoding.UTF8.GetBytes("a"));
        var appends = c.TakeInFlight();
        var follower = c[2];
        foreach (var m in appends)
        {
            if (m.To == 2)
            {
                follower.Step(m);
            }
        }

        var rd = follower.GetReady();
        Assert.False(rd.Entries.IsEmpty);
        Assert.Contains(rd.Messages.ToArray(), m => m.Type == MessageType.AppendResponse);
        Assert.Equal(0, rd.MessagesBeforePersist);
        follower.Advance(rd);
    }

    [Fact]
    public void VotesNeverLeaveBeforePersist()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { PreVote = false });
        c[1].Campaign();
        var rd = c[1].GetReady();
        Assert.NotNull(rd.HardState);
        var requests = rd.Messages.ToArray();
        Assert.Contains(requests, m => m.Type == MessageType.Vote);
        Assert.Equal(0, rd.MessagesBeforePersist);
        c[1].Advance(rd);

        c[2].Step(requests.First(m => m.To == 2));
        var voter = c[2].GetReady();
        Assert.Contains(voter.Messages.ToArray(), m => m.Type == MessageType.VoteResponse && !m.Reject);
        Assert.Equal(0, voter.MessagesBeforePersist);
        c[2].Advance(voter);
    }

    [Fact]
    public void LeaderThatStepsDownSendsNothingEarly()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(Encoding.UTF8.GetBytes("a"));

        // A higher term arrives in the same batch of input: the leader steps down (term changes).
        leader.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = leader.Term + 1 });
        var rd = leader.GetReady();
        Assert.False(leader.IsLeader);
        Assert.Equal(0, rd.MessagesBeforePersist);
        leader.Advance(rd);
    }

    [Fact]
    public void EarlyMessagesComeFirstAndNothingIsLost()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        ulong term = leader.Term;

        // A stale leader's Append (lower term) earns an AppendResponse: a late message in the same Ready as Appends.
        leader.Step(new Message { Type = MessageType.Append, From = 3, To = 1, Term = term - 1, Index = 1, LogTerm = 0 });
        leader.Propose(Encoding.UTF8.GetBytes("a"));
        var rd = leader.GetReady();
        var messages = rd.Messages.ToArray();
        Assert.Contains(messages, m => m.Type == MessageType.AppendResponse);
        Assert.Equal(messages.Count(m => m.Type == MessageType.Append), rd.MessagesBeforePersist);
        for (int i = 0; i < messages.Length; i++)
        {
            Assert.Equal(i < rd.MessagesBeforePersist, messages[i].Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot);
        }

        leader.Advance(rd);
    }
}
