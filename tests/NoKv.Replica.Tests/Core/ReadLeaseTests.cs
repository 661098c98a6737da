using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Core;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// Lease reads (docs/replica.md, "Lease reads"): a leader answers a linearizable read without a heartbeat round only
/// within 3/4 of an election timeout, on its own monotonic clock, of a read a round confirmed; never after it slept; never
/// while a store of an older build could obey a stale hibernation notice.
/// </summary>
public sealed class ReadLeaseTests
{
    [Fact]
    public void A_read_confirmed_by_a_round_lets_the_next_ones_skip_it_until_the_clock_runs_past_the_lease()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();

        Assert.True(ReadNeedsRound(group), "the first read of a term has no lease to use");
        Assert.False(ReadNeedsRound(group), "a read within the lease still took a round");
        Assert.Equal(1, group.Core.LeaseReadsServed);

        // No tick ran (a paused silo, a stalled scheduler): Raft's tick-counted lease still looks fresh, but the clock
        // says the lease is over.
        group.NowMs += 800;
        Assert.True(ReadNeedsRound(group), "a read past the lease's end was answered without a round");
        Assert.False(ReadNeedsRound(group), "the round renews the lease");
        Assert.Equal(2, group.Core.LeaseReadsServed);
    }

    [Fact]
    public void Below_the_cluster_level_that_has_the_notice_rule_every_read_takes_a_round()
    {
        using var group = new ScriptedGroup();
        group.ClusterFormatLevel = CommandFormatLevel.PrimaryInOnePhase;
        group.ElectSelf();

        Assert.True(ReadNeedsRound(group));
        Assert.True(ReadNeedsRound(group), "a store of an older build may obey a stale notice: no lease may be used");
        Assert.Equal(0, group.Core.LeaseReadsServed);

        // Once every store reports the level, the lease the last round earned is used.
        group.ClusterFormatLevel = CommandFormatLevel.LeaseReadsWithHibernation;
        Assert.False(ReadNeedsRound(group));
        Assert.Equal(1, group.Core.LeaseReadsServed);
    }

    [Fact]
    public void A_leader_that_went_to_sleep_within_its_lease_confirms_its_first_read_after_waking_with_a_round()
    {
        // A long election timeout (lease 1,500 ms) and a short idle period, so the group sleeps well within the lease.
        using var group = new ScriptedGroup(new ReplicaOptions { ElectionTicks = 20, HeartbeatTicks = 2, HibernateAfterTicks = 3, RequestTimeout = TimeSpan.FromSeconds(3) });
        group.ElectSelf();
        Assert.True(ReadNeedsRound(group));
        Assert.False(ReadNeedsRound(group));

        int answered = group.Sent.Count;
        for (int i = 0; i < 10 && !group.Core.IsHibernating; i++)
        {
            group.Tick();
            answered = group.AnswerAll(answered);
        }

        Assert.True(group.Core.IsHibernating, "the idle group did not go to sleep");
        Assert.True(ReadNeedsRound(group), "a leader that slept answered a read on the lease it held before sleeping");
    }

    [Fact]
    public void A_follower_ignores_a_hibernation_notice_older_than_a_heartbeat_it_has_seen()
    {
        using var group = new ScriptedGroup();
        ulong leader = group.PeerIdOf(ScriptedGroup.PeerB);
        ulong self = group.PeerIdOf(ScriptedGroup.Self);
        group.Deliver(new Message
        {
            Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 0, LogTerm = 0, Commit = 1,
            Entries = new[] { new Entry(1, 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty) },
        });
        group.Deliver(new Message { Type = MessageType.Heartbeat, From = leader, To = self, Term = 1, Commit = 1, Index = 5, LogTerm = 40 });

        // The leader slept after round 4, woke, and sent round 5, which this follower answered (so it backs the leader's
        // lease): the notice arriving now is the old one.
        group.Deliver(Notice(leader, self, round: 4));
        Assert.False(group.Core.IsHibernating, "an old notice put to sleep a follower that backs its leader's lease");

        group.Deliver(Notice(leader, self, round: 5));
        Assert.True(group.Core.IsHibernating);
    }

    /// <summary>Reads key k on the leader; true when it had to wait for a heartbeat round (which this then answers).</summary>
    private static bool ReadNeedsRound(ScriptedGroup group)
    {
        int mark = group.Sent.Count;
        var read = group.Core.GetAsync(new ReadRequest { Shard = new ShardId(1), Epoch = 1, Key = Encoding.UTF8.GetBytes("k") });
        group.Settle();
        bool waited = !read.IsCompleted;
        if (waited)
        {
            Assert.Contains(group.Sent.Skip(mark), m => m.Type == MessageType.Heartbeat);
            group.AnswerAll(mark);
        }

        var response = group.Run(read);
        Assert.Equal(NoKvErrorCode.Ok, response.Code);
        return waited;
    }

    private static Message Notice(ulong from, ulong to, ulong round) =>
        new() { Type = MessageType.Heartbeat, From = from, To = to, Term = 1, Commit = 1, Index = round, Context = ReplicaCore.HibernateContext };
}
