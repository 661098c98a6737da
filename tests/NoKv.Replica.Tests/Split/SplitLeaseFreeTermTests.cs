using Microsoft.Extensions.Logging.Abstractions;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Core;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Split;

/// <summary>
/// A split creates every replica of the new group at term 5, where no leader can ever have been, so a replica opened
/// there votes at once instead of refusing votes for an election timeout as a restarted node that may owe a lease
/// must (the split benchmark's slow second: docs/replica.md, "Split"). Once it has acknowledged a leader of a later
/// term it keeps the guard after a restart.
/// </summary>
public sealed class SplitLeaseFreeTermTests
{
    private static readonly ShardId NewShard = new(20);

    [Fact]
    public void The_new_groups_replica_grants_a_pre_vote_as_soon_as_it_opens()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        SplitRoutingTests.Split(group, "m", NewShard, epoch: 1);
        var core = group.Run(ReplicaCore.OpenAsync(group.Database, NewShard, ScriptedGroup.Self, null, group.Options, group, NullLogger.Instance, 7));
        try
        {
            Assert.True(GrantsPreVote(group, core, term: 6));
        }
        finally
        {
            core.Close();
        }
    }

    [Fact]
    public void After_following_a_leader_of_a_later_term_the_replica_honours_the_restart_guard_again()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        SplitRoutingTests.Split(group, "m", NewShard, epoch: 1);
        var core = group.Run(ReplicaCore.OpenAsync(group.Database, NewShard, ScriptedGroup.Self, null, group.Options, group, NullLogger.Instance, 7));
        var descriptor = core.Descriptor;
        ulong self = descriptor.PeerOn(ScriptedGroup.Self)!.Value.PeerId;
        ulong leader = descriptor.PeerOn(ScriptedGroup.PeerB)!.Value.PeerId;
        group.Run(core.DeliverAsync(ScriptedGroup.PeerB, [new Message { Type = MessageType.Heartbeat, From = leader, To = self, Term = 6, Commit = 5 }]));
        group.Settle();
        core.Close();

        var reopened = group.Run(ReplicaCore.OpenAsync(group.Database, NewShard, ScriptedGroup.Self, null, group.Options, group, NullLogger.Instance, 8));
        try
        {
            Assert.False(GrantsPreVote(group, reopened, term: 7));
        }
        finally
        {
            reopened.Close();
        }
    }

    /// <summary>Sends the replica a pre-vote for <paramref name="term"/> from store 3's peer; true when it granted it.</summary>
    private static bool GrantsPreVote(ScriptedGroup group, ReplicaCore core, ulong term)
    {
        ulong self = core.Descriptor.PeerOn(ScriptedGroup.Self)!.Value.PeerId;
        ulong candidate = core.Descriptor.PeerOn(ScriptedGroup.PeerC)!.Value.PeerId;
        int sent = group.Sent.Count;
        group.Run(core.DeliverAsync(ScriptedGroup.PeerC, [new Message { Type = MessageType.PreVote, From = candidate, To = self, Term = term, Index = 5, LogTerm = 5 }]));
        group.Settle();
        return group.Sent.Skip(sent).Any(m => m.Type == MessageType.PreVoteResponse && m.To == candidate && m.From == self && !m.Reject);
    }
}
