using NoKv.Abstractions.Errors;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// Version garbage collection (docs/transactions.md, "GC"): every <see cref="ReplicaOptions.GcInterval"/> the leader
/// starts a round that walks its shard in slices of <see cref="ReplicaOptions.GcSliceKeys"/> keys, one
/// <see cref="TxnGcCommand"/> per slice, each proposed once the previous one applied.
/// <para>The safe point is the lower of the newest timestamp the shard holds or has served and the leader's wall
/// clock less <see cref="ReplicaOptions.GcLifetime"/>, in the oracle's format (milliseconds above 18 logical bits).
/// Every timestamp a transaction starts with comes from the oracle, so a transaction younger than the lifetime starts
/// above the second bound and is never refused; the first bound matters for shards that only ever saw plain writes,
/// whose stamps count up from the shard's floor and are far below any oracle timestamp: all their shadowed versions
/// are collectable at once, and no transaction can start below them. The clock only decides which old transactions
/// are refused (SnapshotTooOld, then a retry at a new timestamp): a leader clock ahead of the oracle's by more than the
/// lifetime would abort transactions, never return a wrong version, because a read below the safe point is refused
/// and every version a read at or above it can see is kept.</para>
/// Slices rather than one command keep each apply batch (and the Raft entry) small; a round interrupted by a leader
/// change or a timeout is simply started again by the next interval, since every slice is idempotent.
/// </summary>
public sealed partial class ReplicaCore
{
    private long _ticksSinceGc;
    private ProposalWaiter? _gcSlice;
    private long _gcSafePoint;

    /// <summary>Safe point of the last completed GC round here (0 before any); for tests and status.</summary>
    public long LastGcSafePoint { get; private set; }

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
            if (slice.Result is TxnResult { Code: NoKvErrorCode.Ok, NextKey: { } next })
            {
                ProposeGcSlice(next);
                return;
            }

            if (slice.Result is TxnResult { Code: NoKvErrorCode.Ok })
            {
                LastGcSafePoint = _gcSafePoint;
            }

            // Done, or failed (leader change, timeout): either way the next round starts after a full interval.
            _ticksSinceGc = 0;
            return;
        }

        long every = Math.Max(1, _options.GcInterval.Ticks / _options.TickInterval.Ticks);
        if (++_ticksSinceGc < every)
        {
            return;
        }

        _ticksSinceGc = 0;
        var floor = _stateMachine.Floor;
        long oldestLive = Math.Max(0, _host.WallClockMs - (long)_options.GcLifetime.TotalMilliseconds) << ShardStateMachine.LogicalBits;
        long safePoint = Math.Min(Math.Max(floor.ReadTs, floor.MaxTs), oldestLive);
        if (safePoint <= floor.SafePoint)
        {
            // Nothing became collectable since the last round: versions at or below the old safe point that were
            // shadowed are gone already, and everything newer is still readable.
            return;
        }

        _gcSafePoint = safePoint;
        ProposeGcSlice([]);
    }

    private void ProposeGcSlice(byte[] from)
    {
        var command = new TxnGcCommand(_gcSafePoint, _host.WallClockMs, _options.GcSliceKeys, from).Encode();
        _gcSlice = new ProposalWaiter(command, Deadline());
        _proposalInbox.Add(_gcSlice);
    }
}
