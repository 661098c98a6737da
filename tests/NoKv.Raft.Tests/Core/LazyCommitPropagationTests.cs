using System.Text;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Raft.Tests.Core;

/// <summary>
/// <see cref="RaftConfig.LazyCommitPropagation"/>: a commit advance with nothing new to send costs no empty
/// Append; followers learn the commit index from the next Append or heartbeat.
/// </summary>
public sealed class LazyCommitPropagationTests
{
    private static TestCluster Cluster(bool lazy) =>
        new(3, id => TestCluster.DefaultConfig(id) with { LazyCommitPropagation = lazy });

    /// <summary>Proposes one entry, delivers the Appends and the acknowledgements, and returns what the leader sends next.</summary>
    private static List<Message> AfterCommit(TestCluster c, RawNode leader)
    {
        leader.Propose(Encoding.UTF8.GetBytes("a"));
        foreach (var append in c.TakeInFlight())
        {
            c[append.To].Step(append);
        }

        foreach (var ack in c.TakeInFlight())
        {
            Assert.Equal(MessageType.AppendResponse, ack.Type);
            leader.Step(ack);
        }

        return c.TakeInFlight().Where(m => m.From == leader.Id).ToList();
    }

    [Fact]
    public void EagerLeaderSendsTheCommitIndexInAnEmptyAppend()
    {
        var c = Cluster(lazy: false);
        var leader = c.Elect(1);
        var sent = AfterCommit(c, leader);
        Assert.Equal(2, sent.Count(m => m.Type == MessageType.Append && m.Entries.IsEmpty && m.Commit == leader.CommitIndex));
    }

    [Fact]
    public void LazyLeaderSendsNothingUntilThereIsMoreToReplicate()
    {
        var c = Cluster(lazy: true);
        var leader = c.Elect(1);
        var sent = AfterCommit(c, leader);
        Assert.Empty(sent);
        Assert.True(c[2].CommitIndex < leader.CommitIndex);

        // The next proposal's Append carries the commit index along with its entry.
        leader.Propose(Encoding.UTF8.GetBytes("b"));
        var appends = c.TakeInFlight();
        Assert.All(appends, m => Assert.Equal(leader.CommitIndex, m.Commit));
        Assert.All(appends, m => Assert.False(m.Entries.IsEmpty));
        foreach (var m in appends)
        {
            c.Enqueue(m);
        }

        c.Deliver();
        Assert.True(c[2].CommitIndex >= appends[0].Commit);
    }

    [Fact]
    public void LazyLeaderLetsAHeartbeatCarryTheCommitIndexWhenIdle()
    {
        var c = Cluster(lazy: true);
        var leader = c.Elect(1);
        AfterCommit(c, leader);
        Assert.True(c[3].CommitIndex < leader.CommitIndex);

        c.TickAll(c.Configure(1).HeartbeatTick);
        Assert.Equal(leader.CommitIndex, c[3].CommitIndex);
        Assert.Equal(leader.CommitIndex, c[2].CommitIndex);
    }
}
