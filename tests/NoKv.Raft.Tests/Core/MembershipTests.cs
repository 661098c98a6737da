using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class MembershipTests
{
    [Fact]
    public void AddedLearnerCatchesUpButNeverVotesOrCampaigns()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        for (var i = 0; i < 10; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        c.Deliver();
        c.AddNode(4, Messages.ConfState.Empty);
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 4)).IsAccepted);
        c.TickAll(3);
        Assert.Equal(leader.LastIndex, c[4].LastIndex);
        Assert.Equal(new ulong[] { 4 }, c[4].ConfState.Learners);
        Assert.Equal(10, c.AppliedData(4).Count());

        // A learner never campaigns, however long it waits.
        c.Drop = m => m.From == 1 || m.To == 1;
        c.Delivered.Clear();
        for (var t = 0; t < 60; t++)
        {
            c[4].Tick();
            c.Deliver();
        }

        Assert.Equal(StateRole.Follower, c[4].Role);
        Assert.DoesNotContain(c.Delivered, m => m.From == 4 && m.Type is MessageType.Vote or MessageType.PreVote);

        // Votes are never solicited from learners.
        c.Drop = _ => false;
        c.Delivered.Clear();
        c.TickAll(40);
        Assert.DoesNotContain(c.Delivered, m => m.To == 4 && m.Type is MessageType.Vote or MessageType.PreVote);
    }

    [Fact]
    public void PromotedLearnerCountsTowardsQuorum()
    {
        var c = new TestCluster(1);
        var leader = c.Elect(1);
        c.AddNode(2, Messages.ConfState.Empty);
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 2)).IsAccepted);
        c.TickAll(2);
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 2)).IsAccepted);
        c.TickAll(2);
        Assert.Equal(new ulong[] { 1, 2 }, leader.ConfState.Voters);
        Assert.Empty(leader.ConfState.Learners);

        // With two voters, a proposal needs node 2.
        c.Drop = m => m.To == 2;
        var r = leader.Propose(new byte[] { 5 });
        c.Deliver();
        Assert.True(leader.CommitIndex < r.Index);
        c.Drop = _ => false;
        c.TickAll(2);
        Assert.True(leader.CommitIndex >= r.Index);
    }

    [Fact]
    public void OnlyOneChangeAtATime()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        c.AddNode(4, Messages.ConfState.Empty);
        c.AddNode(5, Messages.ConfState.Empty);
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 4)).IsAccepted);
        var second = leader.ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 5));
        Assert.Equal(ProposalStatus.ConfChangePending, second.Status);
        c.TickAll(2);
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 5)).IsAccepted);
        c.TickAll(3);
        Assert.Equal(new ulong[] { 1, 2, 3, 4, 5 }, leader.ConfState.Voters);
        Assert.All(c.Nodes.Values, n => Assert.Equal(new ulong[] { 1, 2, 3, 4, 5 }, n.ConfState.Voters));
    }

    [Fact]
    public void NewLeaderMustApplyItsFirstEntryBeforeAChange()
    {
        var c = new TestCluster(3);
        c.Nodes[1].Campaign();
        c.Drop = m => m.Type == MessageType.AppendResponse;
        c.Deliver();
        Assert.True(c[1].IsLeader);
        var r = c[1].ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 3));
        Assert.Equal(ProposalStatus.ConfChangePending, r.Status);
    }

    [Theory]
    [InlineData(ConfChangeType.RemoveNode, 9UL, "does not alter")]
    [InlineData(ConfChangeType.AddNode, 2UL, "does not alter")]
    public void NoOpChangesAreRejected(ConfChangeType type, ulong node, string reason)
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        var r = leader.ProposeConfChange(new ConfChange(type, node));
        Assert.Equal(ProposalStatus.Rejected, r.Status);
        Assert.Contains(reason, r.Reason);
    }

    [Fact]
    public void RemovingTheLastVoterIsRejected()
    {
        var c = new TestCluster(1);
        var leader = c.Elect(1);
        var r = leader.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1));
        Assert.Equal(ProposalStatus.Rejected, r.Status);
    }

    [Fact]
    public void RemovedFollowerNoLongerCountsAndRemovedLeaderStepsDown()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 3)).IsAccepted);
        c.TickAll(2);
        Assert.Equal(new ulong[] { 1, 2 }, leader.ConfState.Voters);

        // Node 3 is gone: {1, 2} commit alone.
        c.Drop = m => m.To == 3 || m.From == 3;
        var r = leader.Propose(new byte[] { 1 });
        c.Deliver();
        Assert.True(leader.CommitIndex >= r.Index);

        // Removing the leader itself: it steps down once the change is applied; node 2 takes over.
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1)).IsAccepted);
        c.Deliver();
        Assert.False(c[1].IsLeader);
        for (var t = 0; t < 60 && !c[2].IsLeader; t++)
        {
            c.TickAll();
        }

        Assert.True(c[2].IsLeader);
        Assert.Equal(new ulong[] { 2 }, c[2].ConfState.Voters);
        var r2 = c[2].Propose(new byte[] { 2 });
        c.Deliver();
        Assert.True(c[2].CommitIndex >= r2.Index);
    }

    [Fact]
    public void NodeAddedAfterCompactionCatchesUpBySnapshotAndKnowsMembership()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        for (var i = 0; i < 20; i++)
        {
            leader.Propose(new byte[] { (byte)i });
        }

        c.Deliver();
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 4)).IsAccepted);
        c.Deliver();
        c.Compact(1, leader.AppliedIndex);
        c.AddNode(4, Messages.ConfState.Empty);
        c.TickAll(3);
        Assert.Equal(leader.LastIndex, c[4].LastIndex);
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, c[4].ConfState.Voters);
        Assert.NotEmpty(c.InstalledSnapshots);
    }
    /// <summary>
    /// RAFT-BUGS #3: the leader snapshots while node 4 is a learner, then promotes it. A follower that catches
    /// up by that snapshot must restore the membership as of the snapshot's index (4 still a learner) and only
    /// then apply the promotion from the log; the later membership must not leak into the older snapshot.
    /// </summary>
    [Fact]
    public void SnapshotSentAfterALaterMembershipChangeCarriesTheMembershipOfItsOwnIndex()
    {
        var c = new TestCluster(3, learners: 1);
        var leader = c.Elect(1);

        // Node 3 misses everything from here on, so it will need the snapshot.
        c.Drop = m => m.To == 3 || m.From == 3;
        leader.Propose(new byte[] { 1 });
        c.Deliver();
        var snapIndex = leader.AppliedIndex;
        var asOfSnapshot = leader.ConfState;
        Assert.Equal(new ulong[] { 4 }, asOfSnapshot.Learners);
        c.Compact(1, snapIndex);

        // The promotion commits and applies after the snapshot point; the host records it for restarts.
        Assert.True(leader.ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 4)).IsAccepted);
        c.Deliver();
        var promoted = leader.ConfState;
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, promoted.Voters);
        Assert.Equal(snapIndex, c.Storage(1).Snapshot().Metadata.Index);
        Assert.Equal(asOfSnapshot, c.Storage(1).Snapshot().Metadata.ConfState);

        c.Drop = _ => false;
        c.TickAll(3);
        var installed = Assert.Single(c.InstalledSnapshots);
        Assert.Equal(snapIndex, installed.Metadata.Index);
        Assert.Equal(asOfSnapshot, installed.Metadata.ConfState);
        Assert.Equal(leader.LastIndex, c[3].LastIndex);
        Assert.Equal(promoted, c[3].ConfState);
    }
}
