using NoKv.Raft.Messages;
using NoKv.Replica.Core;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// A hibernating follower whose leader's store dies must help elect a new leader soon (docs/replica.md, "Hibernation",
/// "Noticing a dead peer"): forget the leader, grant the other survivor's pre-vote and campaign after a short random
/// delay. Its election clock stood still while it slept, so Raft's own timer would keep honouring the dead leader's
/// lease for a whole election timeout after it woke. Each test failed before its fix (simulation seeds 2075, 2138,
/// 2145 and 2293 of <c>Idle_groups_hibernate_and_elect...</c> elected past the deadline).
/// </summary>
public sealed class HibernationElectionTests
{
    [Fact]
    public void A_follower_woken_by_a_message_before_it_noticed_its_leaders_silence_still_forgets_the_leader()
    {
        using var group = new ScriptedGroup();
        ulong leader = group.PeerIdOf(ScriptedGroup.PeerB);
        ulong other = group.PeerIdOf(ScriptedGroup.PeerC);
        SleepAsFollowerOf(group, leader);

        // The leader's store dies. Before this follower's sleeping ticks find it silent for an election timeout, the other
        // survivor (which noticed first) pre-votes and so wakes it. Its leader's lease still holds here: no grant.
        group.SilentSince[ScriptedGroup.PeerB] = group.NowMs;
        group.Tick(5);
        Assert.True(group.Core.IsHibernating);
        int mark = group.Sent.Count;
        group.DeliverFrom(ScriptedGroup.PeerC, PreVote(other, group.PeerIdOf(ScriptedGroup.Self)));
        Assert.False(group.Core.IsHibernating);
        Assert.DoesNotContain(group.Sent.Skip(mark), m => m.Type == MessageType.PreVoteResponse && !m.Reject);

        // Awake now, it must still watch the leader's store: once silent for an election timeout (6 more ticks: 1,100 ms),
        // it forgets the leader and grants the other survivor's next pre-vote. Before the fix only a sleeping tick looked,
        // so it honoured the dead leader for its whole election timeout (10 to 19 ticks after waking).
        group.Tick(6);
        mark = group.Sent.Count;
        group.DeliverFrom(ScriptedGroup.PeerC, PreVote(other, group.PeerIdOf(ScriptedGroup.Self)));
        Assert.Contains(group.Sent.Skip(mark), m => m.Type == MessageType.PreVoteResponse && m.To == other && !m.Reject);
    }

    [Fact]
    public void A_follower_that_wakes_to_its_leaders_silence_campaigns_within_its_random_delay_whatever_the_delay()
    {
        // The delay is 1 to ElectionTicks/2 ticks, drawn per wake-up; before the fix a delay of one tick ran out on the
        // tick that drew it, before the pump had forgotten the leader, and the follower never campaigned (about one
        // wake-up in five). Enough seeds to draw every delay.
        var delays = new HashSet<int>();
        for (int seed = 1; seed <= 24; seed++)
        {
            using var group = new ScriptedGroup(randomSeed: seed);
            SleepAsFollowerOf(group, group.PeerIdOf(ScriptedGroup.PeerB));
            group.SilentSince[ScriptedGroup.PeerB] = group.NowMs;
            int ticks = 0;
            while (group.Core.IsHibernating && ticks < 20)
            {
                group.Tick();
                ticks++;
            }

            Assert.False(group.Core.IsHibernating, $"seed {seed}: the silent leader's store did not wake the follower");
            int mark = group.Sent.Count;
            int delay = 0;
            while (!group.Sent.Skip(mark).Any(m => m.Type == MessageType.PreVote) && delay < group.Options.ElectionTicks / 2)
            {
                group.Tick();
                delay++;
            }

            Assert.True(group.Sent.Skip(mark).Any(m => m.Type == MessageType.PreVote), $"seed {seed}: no campaign within {delay} ticks of waking");
            delays.Add(delay);
        }

        Assert.Contains(1, delays);
    }

    /// <summary>Makes the core a caught-up follower of <paramref name="leader"/> (term 1) and puts it to sleep by the leader's notice.</summary>
    private static void SleepAsFollowerOf(ScriptedGroup group, ulong leader)
    {
        ulong self = group.PeerIdOf(ScriptedGroup.Self);
        group.Deliver(new Message
        {
            Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 0, LogTerm = 0, Commit = 1,
            Entries = new[] { new Entry(1, 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty) },
        });
        Assert.Equal(1ul, group.Core.AppliedIndex);
        group.Deliver(new Message { Type = MessageType.Heartbeat, From = leader, To = self, Term = 1, Commit = 1, Context = ReplicaCore.HibernateContext });
        Assert.True(group.Core.IsHibernating);
    }

    private static Message PreVote(ulong from, ulong to) =>
        new() { Type = MessageType.PreVote, From = from, To = to, Term = 2, Index = 1, LogTerm = 1 };
}
