using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// Lease reads (docs/replica.md, "Lease reads"): a leader answers a linearizable read at its commit index without a
/// heartbeat round while it holds a lease, and with a round otherwise.
/// <para><b>Where the lease comes from.</b> A read confirmed by a round was registered at time t on this replica's
/// monotonic clock; the round that confirmed it left after t, and each voter of the quorum that answered it refuses to
/// vote for anyone else until an election timeout of its own ticks after it got it (check-quorum). So no other leader
/// can exist before t + election timeout, and the lease runs to t + 3/4 of it (the rest absorbs clock-rate drift,
/// as for the timestamp oracle). Ticks are not used: a silo paused by SIGSTOP or a stalled scheduler sees its monotonic
/// clock run on, so it never wakes up believing an old lease. Raft's own tick-counted lease must hold too (it is void
/// during and after a leadership transfer in the term), so a read takes the short way only when both agree.</para>
/// <para><b>Hibernation.</b> A sleeping group's ticks stand still, and a follower that sleeps may forget a leader whose
/// store falls silent and vote at once (ReplicaCore.Hibernation.cs): that is what used to keep lease reads and
/// hibernation apart. Now a leader drops its lease when it goes to sleep and earns a new one from a round sent after it
/// wakes; and a follower obeys a hibernation notice only if it is at least as new as every heartbeat it has seen from
/// that leader in the term (the notice carries the leader's heartbeat round), so a notice overtaken by a newer heartbeat,
/// the one case where a follower that helped grant a lease could fall asleep and forget its leader, is ignored.
/// Builds before that rule would obey such a notice, so leaders use the lease only once the cluster's level says every
/// store runs a build that has it (<see cref="CommandFormatLevel.LeaseReadsWithHibernation"/>).</para>
/// </summary>
public sealed partial class ReplicaCore
{
    // How much of an election timeout a read lease may use (as the timestamp oracle's).
    private const double ReadLeaseFraction = 0.75;

    private long _readLeaseUntilMs;
    private ulong _readLeaseTerm;

    // The newest heartbeat round seen from a leader, per term (a follower's guard against old hibernation notices).
    private ulong _leaderRoundTerm;
    private ulong _leaderRoundSeen;

    /// <summary>Reads answered under the lease, without a heartbeat round (diagnostics and tests).</summary>
    public long LeaseReadsServed { get; private set; }

    /// <summary>How a read registered now is confirmed: by the lease when this leader holds one, else by a heartbeat round.</summary>
    private ReadOnlyOption ReadModeNow(long now) =>
        _options.LeaseReads
        && _host.ClusterFormatLevel >= CommandFormatLevel.LeaseReadsWithHibernation
        && _node.IsLeader
        && !_node.IsTransferringLeadership
        && !_hibernating
        && _readLeaseTerm == _node.Term
        && now < _readLeaseUntilMs
            ? ReadOnlyOption.LeaseBased
            : ReadOnlyOption.Safe;

    /// <summary>Registers <paramref name="waiter"/> with Raft in the mode <see cref="ReadModeNow"/> picks.</summary>
    private ProposalResult RegisterRead(ReadWaiter waiter, ReadOnlyMemory<byte> context)
    {
        long now = _host.NowMs;
        var mode = ReadModeNow(now);
        var result = _node.ReadIndex(context, mode);
        if (result.IsAccepted && _node.IsLeader)
        {
            waiter.LeaderTerm = _node.Term;
            waiter.RegisteredAtMs = now;
            waiter.ByLease = mode == ReadOnlyOption.LeaseBased;
        }

        return result;
    }

    /// <summary>A read's index was confirmed: one confirmed by a round renews this leader's lease from its registration.</summary>
    private void NoteReadConfirmed(ReadWaiter waiter)
    {
        if (waiter.ByLease)
        {
            LeaseReadsServed++;
            return;
        }

        if (waiter.LeaderTerm == 0 || waiter.LeaderTerm != _node.Term || !_node.IsLeader)
        {
            return;
        }

        long until = waiter.RegisteredAtMs + (long)(ElectionTimeoutMillis * ReadLeaseFraction);
        if (_readLeaseTerm != waiter.LeaderTerm)
        {
            _readLeaseTerm = waiter.LeaderTerm;
            _readLeaseUntilMs = until;
        }
        else
        {
            _readLeaseUntilMs = Math.Max(_readLeaseUntilMs, until);
        }
    }

    /// <summary>The lease ends now (going to sleep): the next read confirms with a round sent after this.</summary>
    private void DropReadLease() => _readLeaseUntilMs = 0;

    /// <summary>
    /// Whether a hibernation notice is at least as new as every heartbeat seen from its leader in its term; records the
    /// rounds of ordinary heartbeats. Called for every heartbeat before Raft steps it.
    /// </summary>
    private bool ObserveHeartbeatRound(in Message heartbeat, bool notice)
    {
        if (heartbeat.Term < _node.Term || heartbeat.Term < _leaderRoundTerm)
        {
            return false;
        }

        if (heartbeat.Term > _leaderRoundTerm)
        {
            _leaderRoundTerm = heartbeat.Term;
            _leaderRoundSeen = 0;
        }

        if (notice)
        {
            return heartbeat.Index >= _leaderRoundSeen;
        }

        _leaderRoundSeen = Math.Max(_leaderRoundSeen, heartbeat.Index);
        return true;
    }
}
