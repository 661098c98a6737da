using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Diagnostics;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// Version and status-row garbage collection (docs/transactions.md, "GC"): every <see cref="ReplicaOptions.GcInterval"/>
/// the leader starts a round that walks its shard in slices of <see cref="ReplicaOptions.GcSliceKeys"/> keys, one
/// <see cref="TxnCollectCommand"/> per slice, each proposed once the previous one applied.
/// <para>The safe point is the lower of the newest timestamp the shard holds or has served and the leader's wall
/// clock less <see cref="ReplicaOptions.GcLifetime"/>, in the oracle's format (milliseconds above 18 logical bits).
/// Every timestamp a transaction starts with comes from the oracle, so a transaction younger than the lifetime starts
/// above the second bound and is never refused. The clock only decides which old transactions are refused
/// (SnapshotTooOld, then a retry at a new timestamp): a leader clock ahead of the oracle's by more than the lifetime
/// would abort transactions, never return a wrong version, because a read below the safe point is refused and every
/// version a read at or above it can see is kept.</para>
/// <para><b>Lock-free point.</b> The round's first slice raises the shard's lock floor to the clock less the lifetime
/// (prewrites below it are refused from then on), and every slice reports the oldest lock it walked past. A round whose
/// slices all applied at one epoch therefore proves: no lock below min(lock floor, oldest lock seen) exists in the shard
/// at that epoch, nor can appear (a lock in a slice already walked would need a prewrite below the floor). That is the
/// <see cref="ReplicaLoad.LockFree"/> report the store's heartbeat carries to the controller, whose minimum over every
/// shard at its current epoch comes back as <see cref="IReplicaHost.StatusCollectionPoint"/>; the slices drop status
/// rows below it. Locks below the floor (their clients are long gone) are resolved through their primaries after the
/// round, as a reader would, so the next round can report past them.</para>
/// Slices rather than one command keep each apply batch (and the Raft entry) small; a round interrupted by a leader
/// change or a timeout is simply started again by the next interval, since every slice is idempotent.
/// </summary>
public sealed partial class ReplicaCore
{
    /// <summary>Old locks one round resolves at most; the rest wait for the next round.</summary>
    private const int MaxResolvedPerRound = 256;

    private long _ticksSinceGc;
    private ProposalWaiter? _gcSlice;
    private long _gcSafePoint;
    private long _gcLockFloor;
    private long _gcStatusBelow;
    private long _gcEpoch;
    private long _gcOldestLock;
    private bool _gcSplitEpochs;
    private readonly List<TxnLockInfo> _gcOldLocks = new();
    private Task? _gcResolving;

    /// <summary>Safe point of the last completed GC round here (0 before any); for tests and status.</summary>
    public long LastGcSafePoint { get; private set; }

    /// <summary>The lock-free point this replica last found as leader (null before any complete round); for tests.</summary>
    public LockFreeReport? LockFree => _load.LockFree;

    /// <summary>GC rounds this replica completed as leader; for tests.</summary>
    public long GcRoundsCompleted { get; private set; }

    /// <summary>Status rows the GC rounds of this replica dropped (as leader, since it started); for tests and status.</summary>
    public long StatusRowsCollected { get; private set; }

    /// <summary>Old locks the GC rounds of this replica resolved through their primaries; for tests and status.</summary>
    public long GcResolvedLocks { get; private set; }

    private void MaybeCollectGarbage()
    {
        if (!_node.IsLeader || _applyHalt is not null || _options.GcInterval <= TimeSpan.Zero)
        {
            _gcSlice = null;
            return;
        }

        if (_gcSlice is { } slice)
        {
            if (!slice.IsCompleted)
            {
                return;
            }

            _gcSlice = null;
            if (slice.Result is TxnResult { Code: NoKvErrorCode.Ok } done)
            {
                NoteSlice(done);
                if (done.NextKey is { } next)
                {
                    ProposeGcSlice(next);
                    return;
                }

                FinishRound();
            }

            // Done, or failed (leader change, timeout): either way the next round starts after a full interval.
            _ticksSinceGc = 0;
            return;
        }

        long every = Math.Max(1, _options.GcInterval.Ticks / _options.TickInterval.Ticks);
        if (++_ticksSinceGc < every || _gcResolving is { IsCompleted: false })
        {
            return;
        }

        _ticksSinceGc = 0;
        var floor = _stateMachine.Floor;
        long oldestLive = Math.Max(0, _host.WallClockMs - (long)_options.GcLifetime.TotalMilliseconds) << ShardStateMachine.LogicalBits;
        long safePoint = Math.Min(Math.Max(floor.ReadTs, floor.MaxTs), oldestLive);
        long statusBelow = _host.StatusCollectionPoint;
        bool versionsDue = safePoint > floor.SafePoint;
        bool locksDue = oldestLive > floor.LockFloor || _load.LockFree is not { } report || report.Epoch != Descriptor.Epoch;
        bool statusDue = statusBelow > floor.StatusFloor;
        if (!versionsDue && !locksDue && !statusDue)
        {
            // Nothing became collectable since the last round, and the last report still stands.
            return;
        }

        _gcSafePoint = Math.Max(safePoint, floor.SafePoint);
        _gcLockFloor = Math.Max(oldestLive, floor.LockFloor);
        _gcStatusBelow = statusBelow;
        _gcEpoch = 0;
        _gcOldestLock = long.MaxValue;
        _gcSplitEpochs = false;
        _gcOldLocks.Clear();
        ProposeGcSlice([]);
    }

    /// <summary>
    /// Whether a sleeping leader must wake for a GC round: its lock-free report (the lock floor) holds the cluster's
    /// status-collection point a whole lifetime behind the clock, or the cluster's point has moved a lifetime past its
    /// status floor. An idle shard thus wakes about once per lifetime, not once per interval, and never holds status
    /// collection back by more than two lifetimes.
    /// </summary>
    private bool GcLagsWhileAsleep()
    {
        if (!_node.IsLeader || _options.GcInterval <= TimeSpan.Zero || Descriptor.Id == NoKv.Abstractions.Sharding.SystemShards.Controller)
        {
            return false;
        }

        long lifetime = (long)_options.GcLifetime.TotalMilliseconds << ShardStateMachine.LogicalBits;
        long oldestLive = Math.Max(0, _host.WallClockMs - (long)_options.GcLifetime.TotalMilliseconds) << ShardStateMachine.LogicalBits;
        var floor = _stateMachine.Floor;
        return oldestLive - floor.LockFloor > lifetime || _host.StatusCollectionPoint - floor.StatusFloor > lifetime;
    }

    private void NoteSlice(TxnResult slice)
    {
        if (_gcEpoch == 0)
        {
            _gcEpoch = slice.Epoch;
        }
        else if (_gcEpoch != slice.Epoch)
        {
            // A split or merge applied between two slices: what the slices saw is not one range's locks.
            _gcSplitEpochs = true;
        }

        _gcOldestLock = Math.Min(_gcOldestLock, slice.OldestLockTs);
        StatusRowsCollected += slice.StatusRowsCollected;
        foreach (var old in slice.OldLocks ?? [])
        {
            if (_gcOldLocks.Count < MaxResolvedPerRound)
            {
                _gcOldLocks.Add(old);
            }
        }
    }

    private void FinishRound()
    {
        LastGcSafePoint = _gcSafePoint;
        GcRoundsCompleted++;
        if (!_gcSplitEpochs && _gcEpoch != 0)
        {
            long point = Math.Min(_gcLockFloor, _gcOldestLock);
            var previous = _load.LockFree;
            if (previous is null || previous.Epoch != _gcEpoch || previous.Point < point)
            {
                _load.PublishLockFree(new LockFreeReport(point, _gcEpoch));
            }
        }

        if (_gcOldLocks.Count > 0)
        {
            var locks = _gcOldLocks.ToArray();
            _gcOldLocks.Clear();
            _gcResolving = ResolveOldLocksAsync(locks);
        }
    }

    /// <summary>
    /// Resolves locks below the lock floor as a reader would: asks the primary (here, or through the host when it lives
    /// in another shard) and commits or rolls back the lock as it says. Every one of them is long past its TTL, so the
    /// primary decides at once. A lock whose primary cannot be asked stays, and keeps the lock-free point below it.
    /// </summary>
    private async Task ResolveOldLocksAsync(TxnLockInfo[] locks)
    {
        // Bounded by one interval, so primaries that cannot be reached delay the next round by at most that much.
        long giveUpAt = _host.NowMs + (long)_options.GcInterval.TotalMilliseconds;
        foreach (var old in locks)
        {
            if (!_node.IsLeader || _closed || _failed || _host.NowMs > giveUpAt)
            {
                return;
            }

            try
            {
                var shard = Descriptor;
                var status = shard.Range.Contains(old.PrimaryKey)
                    ? await TxnAsync(new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.CheckStatus, StartTs = old.StartTs, PrimaryKey = old.PrimaryKey, RollbackIfAbsent = true }).ConfigureAwait(true)
                    : await _host.CheckTransactionStatusAsync(old.PrimaryKey, old.StartTs).ConfigureAwait(true);
                if (status is not { Code: NoKvErrorCode.Ok } || old.Key.AsSpan().SequenceEqual(old.PrimaryKey))
                {
                    // Not answered, or the lock is the primary itself, which the check-status has just decided.
                    continue;
                }

                shard = Descriptor;
                var resolved = status.Status switch
                {
                    TxnStatus.Committed => await TxnAsync(new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.Commit, StartTs = old.StartTs, CommitTs = status.CommitTs, Keys = [old.Key] }).ConfigureAwait(true),
                    TxnStatus.RolledBack => await TxnAsync(new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.Rollback, StartTs = old.StartTs, Keys = [old.Key] }).ConfigureAwait(true),
                    _ => null,
                };
                if (resolved is { Code: NoKvErrorCode.Ok })
                {
                    GcResolvedLocks++;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failed ask (the primary's shard unreachable, say) leaves the lock for the next round or a reader; the
                // lock-free point stays below it meanwhile, which stalls status collection but never makes it unsafe.
                ReplicaCoreLog.GcResolveFailed(_logger, _name, old.StartTs, e.GetType().Name, e.Message);
            }
        }
    }

    private void ProposeGcSlice(byte[] from)
    {
        var command = new TxnCollectCommand(_gcSafePoint, _host.WallClockMs, _options.GcSliceKeys, _gcLockFloor, _gcStatusBelow, from).Encode();
        _gcSlice = new ProposalWaiter(command, Deadline());
        _proposalInbox.Add(_gcSlice);
    }
}
