using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// Plain writes without the oracle (docs/transactions.md, "Plain writes without the oracle"). A plain Put, Delete or
/// CompareAndSwap must not depend on the controller group: when the leader has no oracle block for it within
/// <see cref="ReplicaOptions.PlainWriteOracleWait"/> (a new leader that cannot prime its read floor, a stamp past the
/// reserved block), the write is stamped from replicated state as always and acknowledged, and the shard is marked
/// unanchored first (<see cref="TxnUnanchorCommand"/>, replicated before the write applies or before it is
/// acknowledged). Such a stamp may land at or below a snapshot an earlier leader served from its memory, or above a
/// timestamp the oracle issues after the acknowledgement; so while the mark is set every transactional read,
/// validation, prewrite and one-phase commit is refused (SnapshotTooOld), and the first transactional request after
/// the oracle is back anchors the shard: a block asked for after the mark applied, covering every version the shard
/// holds, clears the mark and raises the safe point to the block's first timestamp (<see cref="TxnAnchorCommand"/>).
/// Every snapshot that could disagree with an unanchored write is below that safe point, so none is read or validated
/// again; transactions that started before it abort once and retry above it.
/// </summary>
public sealed partial class ReplicaCore
{
    // Of the current term (reset with the floor's term): the log index of the last unanchor entry this leader proposed,
    // and of the last anchor entry proposed after it (an unanchored write after an anchor needs a new unanchor entry).
    private ulong _unanchorIndex;
    private ulong _anchorIndex;

    // Bounded waits for the oracle on the plain-write path, expired by the tick (the core has no timers of its own).
    private readonly List<(long Deadline, TaskCompletionSource<bool> Done)> _oracleWaits = new();

    // Set when a plain write waited out its whole budget for the oracle, cleared by the next call that succeeds.
    private bool _oracleSlow;

    /// <summary>Plain writes acknowledged without an oracle block (marked unanchored); for tests and status.</summary>
    public long UnanchoredWrites { get; private set; }

    /// <summary>Of those, writes of a leader whose read floor was not primed (a new leader, a new epoch); for tests.</summary>
    public long UnprimedWrites { get; private set; }

    /// <summary>Anchor entries this replica proposed as leader; for tests and status.</summary>
    public long AnchorProposals { get; private set; }

    /// <summary>
    /// For a plain write: primes the read floor if the oracle answers within the budget. True when primed (the write
    /// goes the stamped way), false when it must go unanchored.
    /// </summary>
    private async Task<bool> TryPrimeForPlainWriteAsync()
    {
        long deadline = _host.NowMs + (long)_options.PlainWriteOracleWait.TotalMilliseconds;
        while (!IsReadFloorPrimed())
        {
            if (!_node.IsLeader)
            {
                return false;
            }

            var call = OracleCall();
            if (_oracleSlow)
            {
                // An earlier write waited out the whole budget: later writes do not wait for each new attempt; the call
                // just started primes the floor for the writes after it once the oracle is back.
                return false;
            }

            // A call that fails fast (a lost answer) is tried again within the budget: a transient failure should not
            // cost transactions an anchor.
            if (!await WithinOracleBudgetAsync(call, deadline).ConfigureAwait(true))
            {
                _oracleSlow = true;
                return false;
            }

            await call.ConfigureAwait(true);
        }

        return true;
    }

    /// <summary>True if <paramref name="call"/> completed before <paramref name="deadline"/> (host time, tick resolution).</summary>
    private async Task<bool> WithinOracleBudgetAsync(Task call, long deadline)
    {
        if (call.IsCompleted)
        {
            return true;
        }

        if (_host.NowMs >= deadline)
        {
            return false;
        }

        // Not Task.WhenAny: its completion runs on the thread pool, outside the core's logical thread (and out of the
        // simulator's order). Both ends complete this source from the core's thread; the await resumes there too.
        var done = new TaskCompletionSource<bool>();
        _oracleWaits.Add((deadline, done));
        _ = SignalWhenCompletedAsync(call, done);
        return await done.Task.ConfigureAwait(true);
    }

    private static async Task SignalWhenCompletedAsync(Task call, TaskCompletionSource<bool> done)
    {
        await call.ConfigureAwait(true);
        done.TrySetResult(true);
    }

    private void ExpireOracleWaits(long now)
    {
        for (int i = _oracleWaits.Count - 1; i >= 0; i--)
        {
            if (_oracleWaits[i].Deadline <= now)
            {
                _oracleWaits[i].Done.TrySetResult(false);
                _oracleWaits.RemoveAt(i);
            }
        }
    }

    /// <summary>
    /// Called by the pump before an unanchored write: proposes the unanchor entry in the same append unless one is
    /// already in this term's log after the last anchor. False when the write was answered here.
    /// </summary>
    private bool ProposeUnanchorBefore(ProposalWaiter waiter)
    {
        SyncReadFloorTerm();
        if (_unanchorIndex > _anchorIndex && _unanchorIndex > _rollbackAppendedIndex)
        {
            // Entries of one term are appended in order: if that entry is lost to a leader change, so is this write, and
            // no merge rollback lies between them (a prepared merge refuses both or neither).
            return true;
        }

        var result = _node.Propose(TxnUnanchorCommand.Instance.Encode());
        CountProposal(result.Status);
        if (!result.IsAccepted)
        {
            waiter.Complete(result.Status == NoKv.Raft.ProposalStatus.NotLeader ? NoKvErrorCode.NotLeader : NoKvErrorCode.ProposalDropped, false, 0);
            return false;
        }

        _unanchorIndex = result.Index;
        return true;
    }

    /// <summary>
    /// A plain write applied with a stamp no oracle block is known to cover, and the oracle did not answer in time:
    /// marks the shard unanchored before the write is acknowledged. Null when the mark is applied (acknowledge), else
    /// the error to answer (the write is applied; the client's retry gets the recorded outcome and comes back here).
    /// </summary>
    private async Task<(NoKvErrorCode Code, string? Detail)?> UnanchorBeforeAcknowledgingAsync(CancellationToken cancellationToken)
    {
        if (_stateMachine.Floor.Unanchored)
        {
            // Marked, and the mark is only cleared by an anchor whose block covers every version applied before it,
            // this write's included.
            UnanchoredWrites++;
            return null;
        }

        var waiter = new ProposalWaiter(TxnUnanchorCommand.Instance.Encode(), Deadline());
        var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
        if (response.Code != NoKvErrorCode.Ok)
        {
            return (response.Code, response.Detail ?? $"replica {_name} could not mark the shard unanchored");
        }

        UnanchoredWrites++;
        return null;
    }

    /// <summary>
    /// Before a transactional request is served or proposed: if the shard is marked unanchored (as of the applied
    /// index), anchors it with a block asked for after that (so above every snapshot any leader served before and
    /// every timestamp issued before an unanchored write was acknowledged). Null when not marked (any more), else the
    /// error to answer: Timeout while the oracle is unreachable (transactions need it anyway), NotLeader.
    /// </summary>
    private async Task<(NoKvErrorCode Code, string? Detail)?> AnchorIfNeededAsync(CancellationToken cancellationToken)
    {
        if (Descriptor.Id == SystemShards.Controller)
        {
            return null;
        }

        for (int attempt = 0; _stateMachine.Floor.Unanchored; attempt++)
        {
            if (attempt == 3)
            {
                return (NoKvErrorCode.Timeout, $"replica {_name}: the shard stayed unanchored after {attempt} anchors (unanchored writes keep arriving)");
            }

            if (!_node.IsLeader)
            {
                return (NoKvErrorCode.NotLeader, null);
            }

            // The block must be asked for after the mark applied, which it did before this call: a call already in
            // flight may have started earlier, so it does not count.
            if (_oracleCall is { IsCompleted: false } earlier)
            {
                await earlier.ConfigureAwait(true);
            }

            var (first, last, failed) = await ReserveBlockAsync(StampBlock).ConfigureAwait(true);
            if (failed is null && _stateMachine.Floor.MaxTs > last)
            {
                // Unanchored stamps count up from the replicated floor one by one and may have run past what the oracle
                // issued: a second block (above the first) long enough to cover every version the shard holds.
                (first, last, failed) = await ReserveBlockAsync((int)Math.Min(_stateMachine.Floor.MaxTs - last + StampBlock, int.MaxValue / 2)).ConfigureAwait(true);
            }

            if (failed is not null)
            {
                return failed;
            }

            var waiter = new ProposalWaiter(new TxnAnchorCommand(first, last).Encode(), Deadline()) { IsAnchor = true };
            AnchorProposals++;
            var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
            if (response.Code != NoKvErrorCode.Ok)
            {
                return (response.Code, response.Detail);
            }
        }

        return null;
    }
}
