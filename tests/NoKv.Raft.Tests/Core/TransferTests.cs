using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class TransferTests
{
    [Fact]
    public void TransferToUpToDateFollowerHandsOverImmediately()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        var term = leader.Term;
        Assert.True(leader.TransferLeadership(2).IsAccepted);
        c.Deliver();
        Assert.True(c[2].IsLeader);
        Assert.Equal(term + 1, c[2].Term);
        Assert.Equal(2UL, c[1].Lead);
        Assert.Contains(c.Delivered, m => m.Type == MessageType.TimeoutNow && m.To == 2);
    }

    [Fact]
    public void TransferToLaggingFollowerCatchesItUpFirst()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.Drop = m => m.To == 3;
        for (var i = 0; i < 10; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        c.Deliver();
        c.Drop = _ => false;
        Assert.True(leader.TransferLeadership(3).IsAccepted);
        Assert.Equal(ProposalStatus.LeadershipTransferInProgress, leader.Propose(new byte[] { 1 }).Status);
        for (var t = 0; t < 5 && !c[3].IsLeader; t++)
        {
            c.TickAll();
        }

        Assert.True(c[3].IsLeader);
        Assert.Equal(10, c.AppliedData(3).Count());
    }

    [Fact]
    public void TransferRequestOnAFollowerIsForwarded()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        Assert.True(c[2].TransferLeadership(2).IsAccepted);
        c.Deliver();
        Assert.True(c[2].IsLeader);
    }

    [Fact]
    public void TransferToUnreachableNodeIsAbandonedAfterElectionTimeout()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.Drop = m => m.To == 3 || m.From == 3;
        leader.TransferLeadership(3);
        Assert.Equal(3UL, leader.Status().LeadTransferee);
        c.TickAll(10);
        Assert.Equal(0UL, leader.Status().LeadTransferee);
        Assert.True(leader.IsLeader);
        Assert.True(leader.Propose(new byte[] { 1 }).IsAccepted);
    }

    [Fact]
    public void TransferToLearnerIsRejected()
    {
        var c = new TestCluster(2, learners: 1);
        var leader = c.Elect(1);
        Assert.Equal(ProposalStatus.Rejected, leader.TransferLeadership(3).Status);
    }
}
