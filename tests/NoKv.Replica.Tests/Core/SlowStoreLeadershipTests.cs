using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// Slow-store leader eviction (docs/replica.md, "Slow disks"): a leader whose store's disk is slow hands leadership to a
/// voter on a healthy store at once, and no leader hands leadership to a slow store, preferred or not, until it is fast.
/// </summary>
public sealed class SlowStoreLeadershipTests
{
    [Fact]
    public void A_leader_whose_disk_turns_slow_hands_leadership_to_the_healthy_voter_at_the_next_tick()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;
        group.Tick(2);
        answered = group.AnswerAll(answered);
        Assert.DoesNotContain(group.Sent, m => m.Type == MessageType.TimeoutNow);

        // The core's own disk and store C's are slow: only B may take over, and it is caught up, so it is told at once.
        group.Slow.Add(ScriptedGroup.Self);
        group.Slow.Add(ScriptedGroup.PeerC);
        group.Tick();

        var timeoutNow = Assert.Single(group.Sent, m => m.Type == MessageType.TimeoutNow);
        Assert.Equal(group.PeerIdOf(ScriptedGroup.PeerB), timeoutNow.To);
        Assert.Null(group.Failure);
    }

    [Fact]
    public void A_leader_with_no_healthy_voter_keeps_leading()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;
        group.Slow.Add(ScriptedGroup.Self);
        group.Slow.Add(ScriptedGroup.PeerB);
        group.Slow.Add(ScriptedGroup.PeerC);
        for (int i = 0; i < group.Options.ElectionTicks * 5; i++)
        {
            group.Tick();
            answered = group.AnswerAll(answered);
        }

        Assert.True(group.Core.IsLeader);
        Assert.DoesNotContain(group.Sent, m => m.Type == MessageType.TimeoutNow);
    }

    [Fact]
    public void Leadership_goes_back_to_the_preferred_store_only_once_its_disk_is_fast_again()
    {
        // The core leads, but B is the preferred leader (first voter): balancing would hand over after four election
        // timeouts of serving. B's disk is slow, so it must not.
        using var group = new ScriptedGroup(preferred: ScriptedGroup.PeerB);
        group.ElectSelf();
        int answered = group.Sent.Count;
        group.Slow.Add(ScriptedGroup.PeerB);
        for (int i = 0; i < group.Options.ElectionTicks * 10; i++)
        {
            group.Tick();
            answered = group.AnswerAll(answered);
        }

        Assert.True(group.Core.IsLeader);
        Assert.DoesNotContain(group.Sent, m => m.Type == MessageType.TimeoutNow);

        group.Slow.Remove(ScriptedGroup.PeerB);
        for (int i = 0; i < group.Options.ElectionTicks * 5 && !group.Sent.Exists(m => m.Type == MessageType.TimeoutNow); i++)
        {
            group.Tick();
            answered = group.AnswerAll(answered);
        }

        var timeoutNow = Assert.Single(group.Sent, m => m.Type == MessageType.TimeoutNow);
        Assert.Equal(group.PeerIdOf(ScriptedGroup.PeerB), timeoutNow.To);
    }
}
