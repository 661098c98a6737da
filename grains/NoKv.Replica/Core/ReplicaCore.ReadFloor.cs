using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// The read floor in the leader's memory (docs/transactions.md, "The read floor in the leader's memory"): a snapshot
/// read at T promises that no version the shard stamps itself (plain writes, one-phase commits) will ever get a
/// timestamp at or below T. The leader keeps that promise without a Raft entry per read:
/// <list type="number">
/// <item>Priming. A leader reserves a block of timestamps from the oracle after it became leader of this term and
/// epoch, and only then serves snapshot reads or proposes stamped commands; its floor starts at the block's first
/// timestamp F. Every read an earlier leader (or, after a merge, the source shard) served was confirmed before this
/// leader was elected (or before the merge applied), so its timestamp was issued before F was and is below F.</item>
/// <item>Promise. A read at T raises the floor to T and, in the same step, notes the highest log index of the stamped
/// proposals not yet applied that write a key it reads; it is served once that index and its read index are applied.
/// Stamped proposals of its keys made before the promise are then visible to it; those made after carry the raised
/// floor.</item>
/// <item>Carrying. A stamped proposal goes right after a <see cref="TxnRaiseReadTsCommand"/> entry holding the floor
/// (one per change of the floor, in the same append), so its apply stamps above every promise made before it was
/// proposed, on every replica alike.</item>
/// <item>Ceiling. A stamp must also stay below every timestamp the oracle issues after the write is acknowledged (a
/// transaction that starts later must see it). The leader bounds the stamp each stamped proposal will get and
/// acknowledges it only once that bound is inside a block the oracle reserved for this leader (issued to nobody
/// else); when it is past the newest block's end, it reserves another after the apply before answering.</item>
/// </list>
/// Any change of term or epoch unprimes the floor. The controller group is exempt: it stamps its own rows without an
/// oracle (it serves the oracle) and serves no snapshot reads.
/// </summary>
public sealed partial class ReplicaCore
{
    // Timestamps reserved per oracle call: stamps a leader may hand out before it asks again (fewer when reads raise
    // the floor past the block, which makes the next stamped write ask again).
    private const int StampBlock = 4096;

    private long _memFloor;
    private ulong _memFloorTerm;
    private long _memFloorEpoch;
    private bool _memFloorPrimed;

    // The highest floor a floor entry proposed in _memFloorTerm carries, and that entry's log index.
    private long _memFloorProposed;
    private ulong _memFloorProposedIndex;

    // The log index of the last merge rollback this leader appended in _memFloorTerm. A prepared merge source refuses
    // every entry between its prepare and the rollback, floor and unanchor entries included, so one appended before the
    // rollback may never take effect: the entries a stamped proposal relies on must come after it.
    private ulong _rollbackAppendedIndex;

    // Stamped proposals of _memFloorTerm not yet applied: per key the highest log index of one that writes it, and the
    // same pairs in proposal order (to forget them as they apply). A snapshot read waits only for those of its keys.
    private readonly Dictionary<byte[], ulong> _stampedPending = new(ByteArrayComparer.Instance);
    private readonly Queue<(ulong Index, byte[] Key)> _stampedOrder = new();

    // An upper bound of the stamp the last stamped proposal will get (and of every version the shard holds or will
    // apply from entries proposed so far), and the last timestamp of the newest block the oracle reserved for this
    // replica. Both only grow; they hold across terms (a reserved block stays issued).
    private long _stampPredicted;
    private long _stampCeiling;
    private Task<(NoKvErrorCode Code, string? Detail)?>? _oracleCall;


    /// <summary>Oracle round trips made to prime the floor or reserve stamps (for tests and status).</summary>
    public long OracleCalls { get; private set; }

    /// <summary>Stamped proposals tracked for snapshot reads (one per key each writes; for tests and diagnostics).</summary>
    public int TrackedStampedWrites => _stampedOrder.Count;

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

            var failed = await OracleCall().ConfigureAwait(true);
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
            _memFloorProposedIndex = 0;
            _rollbackAppendedIndex = 0;
            _stampedPending.Clear();
            _stampedOrder.Clear();
            _unanchorIndex = 0;
            _anchorIndex = 0;
        }
        else if (_memFloorEpoch != Descriptor.Epoch)
        {
            // A merge brought in a range whose reads another leader promised; a split changes nothing here but is
            // treated alike (one oracle call).
            _memFloorEpoch = Descriptor.Epoch;
            _memFloorPrimed = false;
        }
    }

    /// <summary>The oracle call in flight, or a new one (a call that completed, even inline, is never reused).</summary>
    private Task<(NoKvErrorCode Code, string? Detail)?> OracleCall() =>
        _oracleCall is { IsCompleted: false } pending ? pending : _oracleCall = ReserveStampsAsync(StampBlock);

    /// <summary>
    /// One oracle call: reserves a block of timestamps, which primes the floor (when the term and epoch are still those
    /// the call started in) and raises the stamp ceiling; then releases the stamped proposals held back for it.
    /// </summary>
    private async Task<(NoKvErrorCode Code, string? Detail)?> ReserveStampsAsync(int count) =>
        (await ReserveBlockAsync(count).ConfigureAwait(true)).Error;

    /// <summary><see cref="ReserveStampsAsync"/> that also returns the block it reserved (0, 0 on error).</summary>
    private async Task<(long First, long Last, (NoKvErrorCode Code, string? Detail)? Error)> ReserveBlockAsync(int count)
    {
        SyncReadFloorTerm();
        ulong term = _node.Term;
        long epoch = Descriptor.Epoch;
        long first;
        try
        {
            OracleCalls++;
            first = await _host.GetOracleTimestampsAsync(count).ConfigureAwait(true);
        }
        catch (Exception e) when (e is NoKvException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            return (0, 0, (NoKvErrorCode.Timeout, $"replica {_name} could not reserve timestamps from the oracle: {e.Message}"));
        }

        // Issued to this replica only, after everything issued before the call: stamps up to its end are below
        // every timestamp anyone is handed later. Versions already applied (an earlier leader's stamps, possibly
        // past its own block) count into the bound too.
        long last = first + count - 1;
        _oracleSlow = false;
        _stampCeiling = Math.Max(_stampCeiling, last);
        _stampPredicted = Math.Max(_stampPredicted, Math.Max(first, _stateMachine.Floor.MaxTs));
        SyncReadFloorTerm();
        if (_node.Term == term && Descriptor.Epoch == epoch && _node.IsLeader)
        {
            // Asked after this term and epoch began: above every read promised before them. The replicated floor
            // (raised by earlier floor entries) is below it too, but costs nothing to include.
            _memFloor = Math.Max(Math.Max(_memFloor, first), _stateMachine.Floor.ReadTs);
            _memFloorPrimed = true;
        }

        // Otherwise the caller loops: a new term or epoch needs a block asked for after it began.
        return (first, last, null);
    }

    /// <summary>
    /// Waits until the oracle has issued a timestamp at or above <paramref name="stampBound"/> (a block reserved for this
    /// replica reaches it), so that every timestamp issued after this returns is above the stamp: called after a
    /// stamped write applied and before it is acknowledged. Null when done, else the error to answer (the write is
    /// applied; the client's retry with its session gets the recorded outcome and waits here again).
    /// </summary>
    private async Task<(NoKvErrorCode Code, string? Detail)?> WaitStampIssuedAsync(long stampBound, bool bounded = false)
    {
        long deadline = _host.NowMs + (long)_options.PlainWriteOracleWait.TotalMilliseconds;
        for (int attempt = 0; stampBound > _stampCeiling; attempt++)
        {
            if (attempt == 3)
            {
                return (NoKvErrorCode.Timeout, $"replica {_name}: the oracle reserved no block reaching timestamp {stampBound}");
            }

            // A call already in flight may have started before the apply: any block it returns is issued before this
            // write is acknowledged, which is all that counts; if it ends short, the loop asks again.
            var call = OracleCall();
            if (bounded && (_oracleSlow || !await WithinOracleBudgetAsync(call, deadline).ConfigureAwait(true)))
            {
                _oracleSlow = true;
                return (NoKvErrorCode.Timeout, $"replica {_name}: the oracle did not answer within {_options.PlainWriteOracleWait.TotalMilliseconds} ms");
            }

            if (await call.ConfigureAwait(true) is { } failed && !(bounded && _host.NowMs < deadline))
            {
                return failed;
            }
        }

        return null;
    }

    /// <summary>
    /// Promises that nothing this shard stamps from now on lands at or below <paramref name="ts"/>; returns the log
    /// index the read must see applied (the newest unapplied stamped proposal of a key <paramref name="request"/> reads,
    /// which may carry a lower floor; 0 for none).
    /// REQUIRES: the floor is primed (checked by the caller without an await since).
    /// </summary>
    private ulong PromiseReadFloor(long ts, TxnRequest request)
    {
        if (ts > _memFloor)
        {
            _memFloor = ts;
        }

        ForgetAppliedStamped();
        if (_stampedPending.Count == 0)
        {
            return 0;
        }

        ulong index = 0;
        foreach (var key in request.Op == TxnOp.Get ? [request.Key!] : request.Op is TxnOp.Validate or TxnOp.GetMany ? request.Keys ?? [] : [])
        {
            if (_stampedPending.TryGetValue(key, out var pending) && pending > index)
            {
                index = pending;
            }
        }

        TxnKeyRange[] ranges = request.Op switch
        {
            TxnOp.Scan => [new TxnKeyRange(request.Key!, request.End ?? [])],
            TxnOp.Validate => request.Ranges ?? [],
            _ => [],
        };
        if (ranges.Length > 0)
        {
            foreach (var (key, pending) in _stampedPending)
            {
                if (pending > index && Array.Exists(ranges, r => key.AsSpan().SequenceCompareTo(r.Start) >= 0 && (r.End.Length == 0 || key.AsSpan().SequenceCompareTo(r.End) < 0)))
                {
                    index = pending;
                }
            }
        }

        return index;
    }

    /// <summary>
    /// Records an accepted stamped proposal at <paramref name="index"/> under the keys it writes, after forgetting those
    /// already applied. Only a snapshot read forgot them before, so a leader serving plain writes and no snapshot reads
    /// kept every written key and log index of its term (a silo's memory climbed for as long as it led): now what is
    /// tracked is at most the stamped proposals not yet applied.
    /// </summary>
    private void TrackStamped(ProposalWaiter waiter, ulong index)
    {
        ForgetAppliedStamped();
        foreach (var key in waiter.StampedKeys ?? [])
        {
            _stampedPending[key] = index;
            _stampedOrder.Enqueue((index, key));
        }
    }

    /// <summary>
    /// Called by the pump when it appended a merge rollback at <paramref name="index"/>: floor and unanchor entries
    /// appended before it may have landed after the prepare, where the frozen source refused them, so the next stamped
    /// or unanchored proposal gets fresh ones.
    /// </summary>
    private void NoteRollbackAppended(ulong index)
    {
        SyncReadFloorTerm();
        _rollbackAppendedIndex = Math.Max(_rollbackAppendedIndex, index);
    }

    private void ForgetAppliedStamped()
    {
        ulong applied = _stateMachine.AppliedIndex;
        while (_stampedOrder.TryPeek(out var head) && head.Index <= applied)
        {
            _stampedOrder.Dequeue();
            if (_stampedPending.TryGetValue(head.Key, out var index) && index == head.Index)
            {
                _stampedPending.Remove(head.Key);
            }
        }
    }

    /// <summary>
    /// Called by the pump for a stamped proposal, before it is proposed: refuses it if the floor is not primed for
    /// this term and epoch (the caller retries, priming again), proposes a floor entry first when the floor rose since
    /// the last one, and sets the bound of the stamp its apply will give. False when the proposal was answered here.
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

        if (_memFloor > _memFloorProposed || _memFloorProposedIndex < _rollbackAppendedIndex)
        {
            // Nobody waits for it: it commits (or is lost) together with the proposal behind it in the same term, and
            // takes effect with it (no merge rollback lies between them, so no prepared merge refuses one but not the
            // other).
            var raised = _node.Propose(new TxnRaiseReadTsCommand(_memFloor).Encode());
            CountProposal(raised.Status);
            if (!raised.IsAccepted)
            {
                waiter.Complete(raised.Status == NoKv.Raft.ProposalStatus.NotLeader ? NoKvErrorCode.NotLeader : NoKvErrorCode.ProposalDropped, false, 0);
                return false;
            }

            _memFloorProposed = _memFloor;
            _memFloorProposedIndex = raised.Index;
        }

        // Its apply stamps max(floor, highest version, StampAtLeast) + 1, each term of which this bound covers.
        _stampPredicted = Math.Max(Math.Max(_stampPredicted, _memFloor), waiter.StampAtLeast) + 1;
        waiter.StampBound = _stampPredicted;
        return true;
    }
}
