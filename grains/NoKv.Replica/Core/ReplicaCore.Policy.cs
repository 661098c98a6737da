using NoKv.Raft;
using NoKv.Replica.Commands;
using NoKv.Replica.Waiters;
using NoKv.Storage;

namespace NoKv.Replica.Core;

public sealed partial class ReplicaCore
{
    private int _ticksSinceBalance;

    // Ticks before a leader on a slow store tries another hand-over (0: at the next tick).
    private int _shedCooldown;
    private long _ticksSinceSessionExpiry;

    /// <summary>The leader proposes dropping idle sessions' dedupe rows about every five minutes (or every TTL/4 if shorter).</summary>
    private void MaybeExpireSessions()
    {
        long every = Math.Max(1, (long)(Math.Min(TimeSpan.FromMinutes(5).Ticks, _options.SessionTtl.Ticks / 4) / _options.TickInterval.Ticks));
        if (++_ticksSinceSessionExpiry < every || !_node.IsLeader || _applyHalt is not null)
        {
            return;
        }

        _ticksSinceSessionExpiry = 0;
        long cutoff = _host.WallClockMs - (long)_options.SessionTtl.TotalMilliseconds;
        _proposalInbox.Add(new ProposalWaiter(KvCommand.EncodeExpireSessions(cutoff)));
    }

    /// <summary>
    /// Leader balance: the shard's first voter is its preferred leader, and layouts rotate the first voter across
    /// stores, so leadership (and client load) spreads over the cluster instead of piling onto whichever silo
    /// started first. A leader that is not preferred hands over to the preferred store when that store is up, at
    /// most once per few election timeouts so a lagging or flapping store cannot cause churn, and only to a peer that
    /// answered it within an election timeout; Raft catches the transferee up before it takes over. A leader that stopped applying (an entry this build cannot read) hands
    /// over to any other voter, since it cannot serve clients.
    /// </summary>
    private void MaybeTransferLeadership()
    {
        if (!_node.IsLeader)
        {
            // A new leader first serves for a while: handing over at once would add a second election's pause.
            _ticksSinceBalance = 0;
            return;
        }

        if (_host.IsStoreSlow(_store))
        {
            MaybeShedLeadership();
            return;
        }

        if (++_ticksSinceBalance < _options.ElectionTicks * 4)
        {
            return;
        }

        _ticksSinceBalance = 0;
        var voters = Descriptor.Replicas;
        if (voters.Length == 0)
        {
            return;
        }

        foreach (var peer in Descriptor.Peers)
        {
            // A store that is up but frozen or cut off still counts as available to the host: only a peer that
            // answered within an election timeout can take over without leaving the shard leaderless meanwhile.
            // A store whose disk is slow would commit every write at the pace of its syncs: not handed leadership
            // while it is, even when it is the preferred one (it takes leadership back once its disk is fast again).
            if (peer.Role != Abstractions.Sharding.PeerRole.Voter || peer.PeerId == PeerId || !_host.IsStoreAvailable(peer.Store) || _host.IsStoreSlow(peer.Store) || !RecentlyHeardFrom(peer.PeerId))
            {
                continue;
            }

            bool preferred = peer.Store == voters[0];
            if (preferred || _applyHalt is not null)
            {
                var result = _node.TransferLeadership(peer.PeerId);
                ReplicaCoreLog.LeaderTransfer(_logger, _name, peer.ToString(), result.Status.ToString());
                return;
            }
        }
    }

    /// <summary>
    /// Slow-store leader eviction (docs/replica.md, "Slow disks"). A leader whose own disk is slow cannot commit faster
    /// than its syncs: its Ready loop persists each Ready before it steps the acknowledgements that arrived meanwhile, and
    /// every replica of the store shares the engine's one log writer, so each write waits one slow sync or more while the
    /// followers' fast disks idle. It hands leadership at once (no serving period first, unlike balancing) to the voter on
    /// an available, healthy store that answered it recently and holds the most of its log (Raft catches it up and then
    /// sends it TimeoutNow), and retries every election timeout while still slow and leading. Safety is Raft's: a transfer
    /// only changes who proposes next; the new leader holds every committed entry. With no healthy voter it keeps
    /// leading: slow beats unavailable.
    /// </summary>
    private void MaybeShedLeadership()
    {
        if (_shedCooldown > 0)
        {
            _shedCooldown--;
            return;
        }

        if (_node.IsTransferringLeadership)
        {
            return;
        }

        _shedCooldown = _options.ElectionTicks;
        var progress = _node.Status().Progress;
        var voters = Descriptor.Replicas;
        Abstractions.Sharding.PeerDescriptor? best = null;
        ulong bestMatch = 0;
        foreach (var peer in Descriptor.Peers)
        {
            if (peer.Role != Abstractions.Sharding.PeerRole.Voter || peer.PeerId == PeerId || !_host.IsStoreAvailable(peer.Store) || _host.IsStoreSlow(peer.Store) || !RecentlyHeardFrom(peer.PeerId))
            {
                continue;
            }

            ulong match = progress.TryGetValue(peer.PeerId, out var p) ? p.Match : 0;
            bool better = best is null || match > bestMatch || (match == bestMatch && voters.Length > 0 && peer.Store == voters[0]);
            if (better)
            {
                best = peer;
                bestMatch = match;
            }
        }

        if (best is not { } target)
        {
            return;
        }

        var result = _node.TransferLeadership(target.PeerId);
        ReplicaCoreLog.LeaderShed(_logger, _name, target.ToString(), result.Status.ToString());
        LogEvent("leader_shed", $"{_name}: disk of store {_store} slow; leadership to {target}");
    }

    private bool RecentlyHeardFrom(ulong peer) =>
        _lastResponse.TryGetValue(peer, out long at) && _host.NowMs - at <= _options.ElectionTicks * (long)_options.TickInterval.TotalMilliseconds;

    /// <summary>Keeps the log bounded: once enough entries are applied, drops all but a tail for slow followers.</summary>
    private async Task MaybeCompactAsync()
    {
        ulong applied = _stateMachine.AppliedIndex;
        ulong truncated = _log.FirstIndex() - 1;
        ulong threshold = (ulong)_options.SnapshotEntries;
        ulong compactTo;
        if (_compactFloor > truncated && applied > truncated)
        {
            compactTo = Math.Min(_compactFloor, applied);
            _compactFloor = 0;
        }
        else if (applied > truncated && applied - truncated > threshold)
        {
            compactTo = applied - (threshold / 4);
        }
        else
        {
            return;
        }

        if (_stateMachine.PendingExportIndex is { } exporting && exporting < compactTo)
        {
            // A snapshot being exported for a follower covers the log only up to its index: keep what follows.
            compactTo = exporting;
            if (compactTo <= truncated)
            {
                return;
            }
        }

        var batch = new WriteBatch();
        _log.StageCompact(batch, compactTo);
        await PersistAsync(batch, WriteOptions.Default).ConfigureAwait(true);
        _log.CommitCompact(compactTo);
        ReplicaCoreLog.Compacted(_logger, _name, compactTo);
    }
}
