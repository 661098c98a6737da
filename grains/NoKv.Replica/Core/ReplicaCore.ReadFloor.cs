using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// The read floor in the leader's memory (docs/transactions.md, "The read floor in the leader's memory"): a snapshot
/// read at T promises that no version the shard stamps itself (plain writes, one-phase commits) will ever get a
/// timestamp at or below T. The leader keeps that promise without a Raft entry per read:
/// <list type="number">
/// <item>Priming. A leader takes one timestamp N from the oracle after it became leader of this term and epoch, and
/// only then serves snapshot reads or proposes stamped commands; its floor starts at N. Every read an earlier leader
/// (or, after a merge, the source shard) served was confirmed before this leader was elected (or before the merge
/// applied), so its timestamp was issued before N was asked for and is below N.</item>
/// <item>Promise. A read at T raises the floor to T and, in the same step, notes the index of the last stamped
/// proposal; it is served once that index and its read index are applied. Stamped proposals made before the promise
/// are then visible to it; those made after carry the raised floor.</item>
/// <item>Carrying. A stamped proposal goes right after a <see cref="TxnRaiseReadTsCommand"/> entry holding the floor
/// (one per change of the floor, in the same append), so its apply stamps above every promise made before it was
/// proposed, on every replica alike.</item>
/// </list>
/// Any change of term or epoch unprimes the floor. The controller group is exempt: it stamps its own rows without an
/// oracle (it serves the oracle) and serves no snapshot reads.
/// </summary>
public sealed partial class ReplicaCore
{
    private long _memFloor;
    private ulong _memFloorTerm;
    private long _memFloorEpoch;
    private bool _memFloorPrimed;

    // The highest floor a floor entry proposed in _memFloorTerm carries, and the log index of that term's last stamped
    // proposal (0: none yet).
    private long _memFloorProposed;
    private ulong _lastStampedIndex;
    private Task<(NoKvErrorCode Code, string? Detail)?>? _priming;

    /// <summary>Oracle round trips made to prime the floor (for tests and status).</summary>
    public long ReadFloorPrimings { get; private set; }

    /// <summary>This leader's read floor: no snapshot above it was promised (0 when not primed or not leader).</summary>
    public long ReadFloor => IsReadFloorPrimed() ? _memFloor : 0;

    /// <summary>
    /// Waits until this leader's read floor is primed for its current term and epoch; null when it is, else the error
    /// to answer (NotLeader, or Timeout when the oracle did not answer). Returns with the floor primed at that moment:
    /// a caller must not await between this and using it.
    /// </summary>
    private async Task<(NoKvErrorCode Code, string? Detail)?> PrimeReadFloorAsync()
    {
        while (!IsReadFloorPrimed())
        {
            if (!_node.IsLeader)
            {
                return (NoKvErrorCode.NotLeader, null);
            }

            var failed = await (_priming ??= PrimeOnceAsync()).ConfigureAwait(true);
            if (failed is not null)
            {
                return failed;
            }
        }

        return null;
    }

    private bool IsReadFloorPrimed()
    {
        if (Descriptor.Id == SystemShards.Controller)
        {
            return true;
        }

        SyncReadFloorTerm();
        return _memFloorPrimed && _node.IsLeader;
    }

    /// <summary>Unprimes the floor when the term or the epoch changed; a new term also starts a new log suffix.</summary>
    private void SyncReadFloorTerm()
    {
        if (_memFloorTerm != _node.Term)
        {
            _memFloorTerm = _node.Term;
            _memFloorEpoch = Descriptor.Epoch;
            _memFloorPrimed = false;
            _memFloorProposed = 0;
            _lastStampedIndex = 0;
        }
        else if (_memFloorEpoch != Descriptor.Epoch)
        {
            // A merge brought in a range whose reads another leader promised; a split changes nothing here but is
            // treated alike (one oracle call).
            _memFloorEpoch = Descriptor.Epoch;
            _memFloorPrimed = false;
        }
    }

    private async Task<(NoKvErrorCode Code, string? Detail)?> PrimeOnceAsync()
    {
        try
        {
            SyncReadFloorTerm();
            ulong term = _node.Term;
            long epoch = Descriptor.Epoch;
            long ts;
            try
            {
                ts = await _host.GetOracleTimestampAsync().ConfigureAwait(true);
                ReadFloorPrimings++;
            }
            catch (Exception e) when (e is NoKvException or TimeoutException or OperationCanceledException or InvalidOperationException)
            {
                return (NoKvErrorCode.Timeout, $"replica {_name} could not take a timestamp from the oracle to start serving as leader: {e.Message}");
            }

            SyncReadFloorTerm();
            if (_node.Term == term && Descriptor.Epoch == epoch && _node.IsLeader)
            {
                // Asked after this term and epoch began: above every read promised before them. The replicated floor
                // (raised by earlier floor entries) is below it too, but costs nothing to include.
                _memFloor = Math.Max(Math.Max(_memFloor, ts), _stateMachine.Floor.ReadTs);
                _memFloorPrimed = true;
            }

            // Otherwise the caller loops: a new term or epoch needs a timestamp asked for after it began.
            return null;
        }
        finally
        {
            _priming = null;
        }
    }

    /// <summary>
    /// Promises that nothing this shard stamps from now on lands at or below <paramref name="ts"/>; returns the log
    /// index the read must see applied (the last stamped proposal, which may carry a lower floor).
    /// REQUIRES: the floor is primed (checked by the caller without an await since).
    /// </summary>
    private ulong PromiseReadFloor(long ts)
    {
        if (ts > _memFloor)
        {
            _memFloor = ts;
        }

        return _lastStampedIndex;
    }

    /// <summary>
    /// Called by the pump for a stamped proposal, before it is proposed: refuses it if the floor is not primed for
    /// this term and epoch (the caller retries, priming again), and proposes a floor entry first when the floor rose
    /// since the last one. False when the proposal was answered here.
    /// </summary>
    private bool ProposeReadFloorBeforeStamped(ProposalWaiter waiter)
    {
        if (Descriptor.Id == SystemShards.Controller)
        {
            return true;
        }

        if (!IsReadFloorPrimed())
        {
            waiter.Complete(_node.IsLeader ? NoKvErrorCode.ProposalDropped : NoKvErrorCode.NotLeader, false, 0);
            return false;
        }

        if (_memFloor > _memFloorProposed)
        {
            // Nobody waits for it: it commits (or is lost) together with the proposal behind it in the same term.
            var raised = _node.Propose(new TxnRaiseReadTsCommand(_memFloor).Encode());
            CountProposal(raised.Status);
            if (!raised.IsAccepted)
            {
                waiter.Complete(raised.Status == NoKv.Raft.ProposalStatus.NotLeader ? NoKvErrorCode.NotLeader : NoKvErrorCode.ProposalDropped, false, 0);
                return false;
            }

            _memFloorProposed = _memFloor;
        }

        return true;
    }
}
