using NoKv.Abstractions.Sharding;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Diagnostics;

namespace NoKv.Replica.Core;

/// <summary>
/// Hibernation (docs/replica.md, "Hibernation"): an idle group stops ticking, so it sends no heartbeats and costs nothing,
/// and wakes on the first request or message, or when a peer's store falls silent.
/// <para><b>Going to sleep.</b> A leader whose group saw nothing but heartbeats for <see cref="ReplicaOptions.HibernateAfterTicks"/>
/// ticks, with every peer's log matching its own, everything committed and applied, every peer heard from in the current
/// check-quorum period and nothing pending (proposals, reads, a transfer, lock leases, a merge wait), sends each follower a
/// heartbeat whose context is <see cref="HibernateContext"/> and stops ticking. A follower that gets it from its leader in
/// its term, with its own log committed and applied to the end, stops ticking too; any other follower keeps ticking, times
/// out and pre-votes, and the pre-vote wakes the leader, which heartbeats again.</para>
/// <para><b>Waking.</b> Any message but a heartbeat response (and a leader's hibernation notice) wakes a replica, as does a
/// request on a leader. Nothing but messages, requests and time can change a group, so a sleeping group misses nothing
/// except time: a dead or cut-off peer. For that every silo hears from every other at least every heartbeat interval
/// (the host's store-level traffic; <see cref="IReplicaHost.LastHeardFrom"/>), and a sleeping replica wakes as soon as a
/// peer's store has been silent for an election timeout. A follower whose leader's store went silent also forgets the
/// leader (<see cref="RawNode.ForgetLeader"/>), so the followers grant each other's pre-votes at once instead of honouring
/// the lease of a leader they have reason to believe gone, and campaigns after a short random delay; one that wakes on
/// another store's silence tells its leader (a heartbeat response with <see cref="WakeContext"/>), so a live leader
/// heartbeats again before anyone's election timer runs out.</para>
/// <para><b>Safety.</b> Raft's safety never depends on timing, and hibernation only withholds ticks: terms, votes, logs and
/// commit rules are untouched. What does depend on timing is the lease: check-quorum lets a leader assume no other leader
/// can exist within an election timeout of its quorum's last answer, because followers refuse votes for that long. A
/// sleeping follower refuses votes for longer (its election clock is stopped), which only strengthens that promise, but
/// <c>ForgetLeader</c> on a silent store breaks it on purpose. The controller group, whose timestamp oracle serves under
/// exactly that lease (ReplicaCore.Timestamps.cs), never hibernates. Read leases live with hibernation under two rules
/// (ReplicaCore.ReadLease.cs): a leader drops its read lease when it goes to sleep, and a follower ignores a notice older
/// than a heartbeat it has seen. A read on a sleeping leader wakes it and confirms leadership with a heartbeat round to a
/// quorum like any other. A leader that slept while cut off from its quorum keeps its role until it
/// wakes (silence wakes it within an election timeout); waking, it still has an election timeout of check-quorum to go,
/// during which every read it serves goes through a quorum round, and every write needs a quorum.</para>
/// </summary>
public sealed partial class ReplicaCore
{
    /// <summary>The context of a leader's hibernation notice (a heartbeat that asks a caught-up follower to stop ticking).</summary>
    public static readonly ReadOnlyMemory<byte> HibernateContext = "nokv/hibernate"u8.ToArray();

    /// <summary>The context of a follower's wake-up call to its leader (a heartbeat response that wakes a sleeping leader).</summary>
    public static readonly ReadOnlyMemory<byte> WakeContext = "nokv/wake"u8.ToArray();

    private static readonly KeyValuePair<string, object?> SleepTag = new("state", "sleep");
    private static readonly KeyValuePair<string, object?> WakeTag = new("state", "wake");

    private volatile bool _hibernating;
    private int _idleTicks;

    // A notice from the leader arrived in this pump: sleep once the pump has applied what it carried.
    private bool _hibernateRequested;

    // Wake-up work the pump does (the node is touched only there).
    private bool _forgetLeaderRequested;
    private int _campaignInTicks;
    private bool _campaignRequested;

    // The countdown was set on this very tick: it starts with the next one.
    private bool _campaignArmedThisTick;

    // This follower slept since its leader's last message, so its election clock lags real time (see WatchLeaderWhileAwake).
    private bool _sleptSinceLeaderContact;

    private readonly List<Message> _notices = new();

    /// <summary>True while the group sleeps here: ticks only look for silent peers (see the class remarks).</summary>
    public bool IsHibernating => _hibernating;

    /// <summary>Raised on this replica's thread when it goes to sleep (true) or wakes (false).</summary>
    public event Action<bool>? HibernationChanged;

    private bool MayHibernate =>
        _options.Hibernate && Descriptor.Id != SystemShards.Controller;

    private long ElectionTimeoutMillis => _options.ElectionTicks * (long)_options.TickInterval.TotalMilliseconds;

    /// <summary>A sleeping replica's tick: wakes it when a peer's store fell silent; true when it is awake after the call.</summary>
    private bool TickWhileHibernating()
    {
        if (GcLagsWhileAsleep())
        {
            Wake("its GC round is due (its lock-free report or status floor lags a lifetime behind)");
            _ticksSinceGc = long.MaxValue / 2; // the round starts on this very tick, before the group can sleep again
            return true;
        }

        ulong lead = _node.Lead;
        bool silent = false;
        bool leaderSilent = false;
        foreach (var peer in Descriptor.Peers)
        {
            if (peer.Store != _store && IsStoreSilent(peer.Store))
            {
                silent = true;
                leaderSilent |= peer.PeerId == lead;
            }
        }

        if (!silent)
        {
            return false;
        }

        Wake(leaderSilent ? "the leader's store is silent" : "a peer's store is silent");
        if (!_node.IsLeader && lead != 0)
        {
            if (leaderSilent)
            {
                ForgetSilentLeader();
            }
            else if (StoreOf(lead) is { } leaderStore)
            {
                // The leader may sleep: wake it so it heartbeats before this follower's election timer runs out.
                Message call = new() { Type = MessageType.HeartbeatResponse, From = PeerId, To = lead, Term = _node.Term, Context = WakeContext };
                _host.Send(new PeerDescriptor(lead, leaderStore, PeerRole.Voter), [call]);
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="store"/> is down in membership or has been silent for an election timeout.</summary>
    private bool IsStoreSilent(StoreId store) =>
        !_host.IsStoreAvailable(store) || _host.NowMs - _host.LastHeardFrom(store) > ElectionTimeoutMillis;

    /// <summary>
    /// Evidence the leader is gone (its store is silent): stop honouring its lease and campaign soon, a random 1 to
    /// ElectionTicks/2 ticks after this one, so the followers do not split the vote. The pump forgets the leader first
    /// and campaigns only if no leader was heard of meanwhile.
    /// </summary>
    private void ForgetSilentLeader()
    {
        _forgetLeaderRequested = true;
        _campaignInTicks = 1 + _random.Next(Math.Max(1, _options.ElectionTicks / 2));
        _campaignArmedThisTick = true;
    }

    /// <summary>
    /// A follower that slept since it last heard from its leader keeps watching the leader's store once awake. One woken
    /// by a message (another survivor's pre-vote) before its own sleeping tick found the leader's store silent used to
    /// stop looking: its election clock had stood still while it slept, so it honoured the dead leader's lease for a whole
    /// election timeout after waking and ignored the other survivor's pre-votes meanwhile (simulation seeds 2075 and
    /// 2293 of the hibernation scenario elected past the deadline). A follower whose clock kept running since its leader's
    /// last message is left to Raft's own election timer, as in a group that never sleeps.
    /// </summary>
    private void WatchLeaderWhileAwake()
    {
        if (!_sleptSinceLeaderContact || _forgetLeaderRequested || _campaignInTicks > 0 || _node.IsLeader)
        {
            return;
        }

        ulong lead = _node.Lead;
        if (lead != 0 && StoreOf(lead) is { } leaderStore && leaderStore != _store && IsStoreSilent(leaderStore))
        {
            ReplicaCoreLog.LeaderStoreSilent(_logger, _name, lead, leaderStore.Value);
            ForgetSilentLeader();
        }
    }

    /// <summary>Resumes ticking (idempotent).</summary>
    private void Wake(string reason)
    {
        _idleTicks = 0;
        _hibernateRequested = false;
        if (!_hibernating)
        {
            return;
        }

        _hibernating = false;
        ReplicaCoreLog.Hibernation(_logger, _name, false, reason);
        ReplicaTelemetry.Hibernations.Add(1, WakeTag);
        HibernationChanged?.Invoke(false);
    }

    /// <summary>Whether a message arriving while asleep wakes the replica (see the class remarks).</summary>
    private void ObserveForHibernation(in Message message)
    {
        if (message.Type == MessageType.Heartbeat)
        {
            bool notice = message.Context.Span.SequenceEqual(HibernateContext.Span);
            bool current = ObserveHeartbeatRound(message, notice);
            if (notice)
            {
                // An old notice (overtaken by a newer heartbeat) is ignored: obeying it could put to sleep, and let forget
                // its leader, a follower whose answer to that newer heartbeat backs the leader's read lease.
                _hibernateRequested |= current;
                return;
            }
        }

        if (message.Type == MessageType.HeartbeatResponse && !message.Context.Span.SequenceEqual(WakeContext.Span))
        {
            // Answers to the last heartbeats (and to the notices) carry no news for a sleeping leader.
            return;
        }

        _hibernateRequested = false;
        if (_hibernating)
        {
            Wake($"{message.Type} from peer {message.From}");
        }
        else
        {
            _idleTicks = 0;
        }
    }

    /// <summary>Work a wake-up left for the pump: forget a silent leader, or campaign when the delay ran out.</summary>
    private void DrainWakeRequests()
    {
        if (_forgetLeaderRequested)
        {
            _forgetLeaderRequested = false;
            _node.ForgetLeader();
        }
    }

    /// <summary>Once per (awake) tick: count idleness, campaign after a silent leader, and hibernate the group when due.</summary>
    private void TickHibernation()
    {
        WatchLeaderWhileAwake();
        // Whether to campaign is the pump's to decide, after it forgot the leader: checked here, before the pump, a
        // countdown that ran out on the tick that set it (one wake-up in five) found the leader not yet forgotten and
        // never campaigned (seeds 2138 and 2145).
        if (_campaignArmedThisTick)
        {
            _campaignArmedThisTick = false;
        }
        else if (_campaignInTicks > 0 && --_campaignInTicks == 0)
        {
            _campaignRequested = true;
        }

        if (!MayHibernate || !_node.IsLeader)
        {
            _idleTicks = 0;
            return;
        }

        if (++_idleTicks < _options.HibernateAfterTicks || !LeaderMayHibernate(out var progress))
        {
            return;
        }

        _notices.Clear();
        ulong committed = _node.CommitIndex;
        ulong round = _node.HeartbeatRound;
        foreach (var (peer, status) in progress)
        {
            if (peer == PeerId)
            {
                continue;
            }

            _notices.Add(new Message { Type = MessageType.Heartbeat, From = PeerId, To = peer, Term = _node.Term, Commit = Math.Min(status.Match, committed), Index = round, Context = HibernateContext });
        }

        _hibernating = true;
        _idleTicks = 0;
        DropReadLease();
        ReplicaCoreLog.Hibernation(_logger, _name, true, $"idle for {_options.HibernateAfterTicks} ticks");
        ReplicaTelemetry.Hibernations.Add(1, SleepTag);
        HibernationChanged?.Invoke(true);
        foreach (var notice in _notices)
        {
            if (StoreOf(notice.To) is { } store)
            {
                _host.Send(new PeerDescriptor(notice.To, store, PeerRole.Voter), [notice]);
            }
        }

        _notices.Clear();
    }

    /// <summary>A leader may sleep when nothing is in flight and every peer holds, and has acknowledged, the whole log.</summary>
    private bool LeaderMayHibernate(out IReadOnlyDictionary<ulong, ProgressStatus> progress)
    {
        progress = null!;
        ulong last = _log.LastIndex();
        if (_node.CommitIndex != last || _stateMachine.AppliedIndex != last || _node.IsTransferringLeadership
            || _proposals.Count > 0 || _pendingReads.Count > 0 || _readsAwaitingApply.Count > 0
            || _proposalInbox.Count > 0 || _readInbox.Count > 0 || _messageInbox.Count > 0 || _requestedTransferee != 0
            || _leases.Count > 0 || _lockWaiters.Count > 0 || _lockPolls.Count > 0 || _leasesStale
            || _gcSlice is not null || _mergeWaitIndex != 0 || _applyHalt is not null || !IsInitialized || _failed || _closed
            || _stateMachine.PendingExportIndex is not null)
        {
            return false;
        }

        // A leader on another store than the preferred one still has a transfer to make (leader balance runs on ticks).
        var voters = Descriptor.Replicas;
        if (voters.Length > 0 && voters[0] != _store && _host.IsStoreAvailable(voters[0]))
        {
            return false;
        }

        progress = _node.Status().Progress;
        foreach (var (peer, status) in progress)
        {
            if (peer != PeerId && (status.Match != last || status.State != Raft.Tracker.ProgressState.Replicate || !status.RecentActive || status.PendingSnapshot != 0))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>After a pump: a follower told to sleep does so if its log is committed and applied to the end.</summary>
    private void MaybeHibernateFollower()
    {
        if (!_hibernateRequested)
        {
            return;
        }

        _hibernateRequested = false;
        ulong last = _log.LastIndex();
        if (!MayHibernate || _node.IsLeader || _node.Lead == 0 || _node.CommitIndex != last || _stateMachine.AppliedIndex != last
            || _mergeWaitIndex != 0 || _applyHalt is not null || !IsInitialized || _hibernating)
        {
            return;
        }

        _hibernating = true;
        _sleptSinceLeaderContact = true;
        _campaignInTicks = 0;
        ReplicaCoreLog.Hibernation(_logger, _name, true, $"asked by leader {_node.Lead}");
        ReplicaTelemetry.Hibernations.Add(1, SleepTag);
        HibernationChanged?.Invoke(true);
    }
}
