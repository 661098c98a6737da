using System.Text;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class ReadIndexTests
{
    private static readonly byte[] Ctx = Encoding.UTF8.GetBytes("req-1");

    [Fact]
    public void SafeReadOnLeaderIsReleasedAfterQuorumHeartbeatAck()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(new byte[] { 1 });
        c.Deliver();
        var commit = leader.CommitIndex;
        c.Delivered.Clear();
        Assert.True(leader.ReadIndex(Ctx, ReadOnlyOption.Safe).IsAccepted);
        var msgs = c.TakeInFlight();
        Assert.Empty(c.Reads[1]);
        Assert.Contains(msgs, m => m.Type == MessageType.Heartbeat);
        foreach (var m in msgs)
        {
            c.Enqueue(m);
        }

        c.Deliver();
        var read = Assert.Single(c.Reads[1]);
        Assert.Equal(commit, read.Index);
        Assert.Equal(Ctx, read.RequestCtx.ToArray());
    }

    [Fact]
    public void SafeReadIsNotReleasedWithoutQuorum()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.Drop = m => m.Type == MessageType.HeartbeatResponse;
        leader.ReadIndex(Ctx, ReadOnlyOption.Safe);
        c.Deliver();
        c.TickAll(5);
        Assert.Empty(c.Reads[1]);
        c.Drop = m => m.Type == MessageType.HeartbeatResponse && m.From == 3;
        c.TickAll(1);
        Assert.Single(c.Reads[1]);
    }

    [Fact]
    public void FollowerReadIsForwardedToLeader()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        leader.Propose(new byte[] { 1 });
        c.Deliver();
        Assert.True(c[2].ReadIndex(Ctx).IsAccepted);
        c.Deliver();
        var read = Assert.Single(c.Reads[2]);
        Assert.Equal(leader.CommitIndex, read.Index);
        Assert.Equal(Ctx, read.RequestCtx.ToArray());
    }

    [Fact]
    public void ReadWithoutKnownLeaderAnswersNotLeader()
    {
        var c = new TestCluster(3);
        Assert.Equal(ProposalStatus.NotLeader, c[2].ReadIndex(Ctx).Status);
    }

    [Fact]
    public void LeaderDefersReadsUntilItCommitsAnEntryOfItsTerm()
    {
        var c = new TestCluster(3);
        c.Nodes[1].Campaign();
        c.Drop = m => m.Type == MessageType.AppendResponse;
        c.Deliver();
        var leader = c[1];
        Assert.True(leader.IsLeader);
        leader.ReadIndex(Ctx, ReadOnlyOption.Safe);
        c.Deliver();
        c.TickAll(2);
        Assert.Empty(c.Reads[1]);
        c.Drop = _ => false;
        c.TickAll(2);
        var read = Assert.Single(c.Reads[1]);
        Assert.Equal(leader.CommitIndex, read.Index);
    }

    [Fact]
    public void LeaseReadIsAnsweredWithoutARoundTrip()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.TickAll(2);
        c.Delivered.Clear();
        leader.ReadIndex(Ctx, ReadOnlyOption.LeaseBased);
        var msgs = c.TakeInFlight();
        Assert.DoesNotContain(msgs, m => m.Type == MessageType.Heartbeat);
        Assert.Single(c.Reads[1]);
    }

    [Fact]
    public void LeaseExpiresWhenQuorumIsSilentAndReadFallsBackToReadIndex()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.TickAll(2);
        c.Drop = m => m.From != 1;
        c.TickAll(8);
        Assert.True(leader.IsLeader);
        leader.ReadIndex(Ctx, ReadOnlyOption.LeaseBased);
        c.Deliver();
        Assert.Empty(c.Reads[1]);
    }

    [Fact]
    public void LeaseIsVoidOnceTimeoutNowIsSent()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.TickAll(2);
        c.Drop = m => m.Type == MessageType.TimeoutNow;
        leader.TransferLeadership(2);
        c.Deliver();
        Assert.True(leader.IsLeader);
        Assert.False(leader.Core.LeaseValid());
    }

    [Fact]
    public void LeaseReadWithoutCheckQuorumFallsBackToSafe()
    {
        var c = new TestCluster(3, id => TestCluster.DefaultConfig(id) with { CheckQuorum = false });
        var leader = c.Elect(1);
        c.TickAll(2);
        leader.ReadIndex(Ctx, ReadOnlyOption.LeaseBased);
        var msgs = c.TakeInFlight();
        Assert.Contains(msgs, m => m.Type == MessageType.Heartbeat);
    }

    [Fact]
    public void ManyReadsShareOneHeartbeatRound()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        for (var i = 0; i < 50; i++)
        {
            leader.ReadIndex(BitConverter.GetBytes(i), ReadOnlyOption.Safe);
        }

        var msgs = c.TakeInFlight();
        Assert.Equal(2, msgs.Count(m => m.Type == MessageType.Heartbeat));
        foreach (var m in msgs)
        {
            c.Enqueue(m);
        }

        c.Deliver();
        Assert.Equal(Enumerable.Range(0, 50), c.Reads[1].Select(r => BitConverter.ToInt32(r.RequestCtx.Span)));
    }
}
