using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// Membership and the shard descriptor are replicated state: changed only by committed entries, persisted with the
/// applied index and recovered from the engine, never rebuilt from the bootstrap layout.
/// </summary>
public sealed class MembershipTests
{
    private static readonly PeerDescriptor NewLearner = new(9_001, new StoreId(4), PeerRole.Learner);

    [Fact]
    public void An_applied_membership_change_survives_a_restart_that_offers_the_bootstrap_layout_again()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;

        var change = group.Core.ChangeMembershipAsync(ConfChangeType.AddLearnerNode, NewLearner);
        group.Settle();
        group.AnswerAll(answered);
        var response = group.Run(change);

        Assert.Equal(NoKvErrorCode.Ok, response.Code);
        Assert.Equal(2, group.Core.Descriptor.ConfVersion);
        Assert.Equal(NewLearner, group.Core.Descriptor.Peer(NewLearner.PeerId));
        Assert.Contains(NewLearner.PeerId, group.Core.ConfState.Learners);

        group.Reopen();

        Assert.Equal(2, group.Core.Descriptor.ConfVersion);
        Assert.Equal(NewLearner, group.Core.Descriptor.Peer(NewLearner.PeerId));
        Assert.Contains(NewLearner.PeerId, group.Core.ConfState.Learners);
        Assert.Equal(3, group.Core.ConfState.Voters.Count);
    }

    [Fact]
    public void A_removed_voter_stays_removed_and_a_promoted_learner_votes_after_a_restart()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        ulong c = group.PeerIdOf(ScriptedGroup.PeerC);

        Apply(group, ConfChangeType.AddLearnerNode, NewLearner);
        Apply(group, ConfChangeType.AddNode, NewLearner with { Role = PeerRole.Voter });
        Apply(group, ConfChangeType.RemoveNode, group.Core.Descriptor.Peer(c)!.Value);

        group.Reopen();

        var shard = group.Core.Descriptor;
        Assert.Equal(4, shard.ConfVersion);
        Assert.Null(shard.Peer(c));
        Assert.Equal(PeerRole.Voter, shard.Peer(NewLearner.PeerId)!.Value.Role);
        Assert.DoesNotContain(c, group.Core.ConfState.Voters);
        Assert.Contains(NewLearner.PeerId, group.Core.ConfState.Voters);
        Assert.Equal([new StoreId(1), new StoreId(2), new StoreId(4)], shard.Replicas.Order().ToArray());
    }

    [Theory]
    [InlineData(2, 9_002)] // a second peer on a store that holds one
    [InlineData(4, 0)]     // peer id 0 is "none" in Raft
    public void A_change_that_contradicts_the_membership_is_refused_and_proposes_nothing(int store, ulong peerId)
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        ulong last = group.Core.LastIndex;

        Assert.Throws<ArgumentException>(() => group.Run(group.Core.ChangeMembershipAsync(ConfChangeType.AddLearnerNode, new PeerDescriptor(peerId, new StoreId(store), PeerRole.Learner))));

        Assert.Equal(last, group.Core.LastIndex);
        Assert.Equal(1, group.Core.Descriptor.ConfVersion);
    }

    private static void Apply(ScriptedGroup group, ConfChangeType type, PeerDescriptor peer)
    {
        int answered = group.Sent.Count;
        var change = group.Core.ChangeMembershipAsync(type, peer);
        group.Settle();
        group.AnswerAll(answered);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(change).Code);
    }
}
