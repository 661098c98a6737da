using NoKv.Raft.Messages;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Split;

/// <summary>
/// A split's new replica on the store whose replica of the split shard led campaigns at once instead of waiting out a
/// randomized election timeout (the split benchmark's slow second, docs/replica.md "Split"); a replica that leads or
/// knows a leader does nothing.
/// </summary>
public sealed class SplitCampaignTests
{
    [Fact]
    public void A_replica_without_a_leader_asks_for_votes_without_a_single_tick()
    {
        using var group = new ScriptedGroup();
        Assert.Empty(group.Sent);

        group.Run(group.Core.CampaignAfterSplitAsync());

        var asked = group.Sent.Where(m => m.Type == MessageType.PreVote).Select(m => m.To).Order().ToArray();
        Assert.Equal(new[] { group.PeerIdOf(ScriptedGroup.PeerB), group.PeerIdOf(ScriptedGroup.PeerC) }.Order().ToArray(), asked);

        // Answered, the pre-vote becomes a vote and the vote leadership, still without a tick.
        int answered = group.AnswerAll(0);
        group.AnswerAll(answered);
        Assert.True(group.Core.IsLeader);
    }

    [Fact]
    public void A_leader_does_not_campaign_again()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        ulong term = group.Core.Term;
        int sent = group.Sent.Count;

        group.Run(group.Core.CampaignAfterSplitAsync());

        Assert.True(group.Core.IsLeader);
        Assert.Equal(term, group.Core.Term);
        Assert.DoesNotContain(group.Sent.Skip(sent), m => m.Type is MessageType.PreVote or MessageType.Vote);
    }

    [Fact]
    public void A_follower_that_knows_its_leader_does_not_campaign()
    {
        using var group = new ScriptedGroup();
        ulong leader = group.PeerIdOf(ScriptedGroup.PeerB);
        group.Deliver(new Message { Type = MessageType.Heartbeat, From = leader, To = group.PeerIdOf(ScriptedGroup.Self), Term = 3 });
        int sent = group.Sent.Count;

        group.Run(group.Core.CampaignAfterSplitAsync());

        Assert.False(group.Core.IsLeader);
        Assert.DoesNotContain(group.Sent.Skip(sent), m => m.Type is MessageType.PreVote or MessageType.Vote);
    }
}
