using NoKv.Abstractions.Errors;

namespace NoKv.Replica.Waiters;

/// <summary>
/// A client write waiting for its log entry to apply. Completed exactly once: with the apply outcome when
/// the entry at <see cref="Index"/> applies with <see cref="Term"/>, with ProposalDropped when another
/// term's entry took that index or leadership was lost (the write may still commit; the client's retry
/// with the same session sequence gets the recorded outcome), with Timeout once <see cref="Deadline"/> has
/// passed (the replica's tick checks), or canceled with the caller's token.
/// </summary>
/// <remarks>
/// The deadline is checked by the replica's tick rather than by a timer per write (<c>Task.WaitAsync</c>):
/// that allocated a timer, a promise task and a token registration per write, and completing the promise cost
/// one more thread-pool hop before the grain's continuation was queued. Completions run continuations
/// asynchronously, so the pump that completes a waiter never runs the caller's code inline.
/// Not thread-safe except <see cref="Complete"/> and cancellation (the task completes once, first wins).
/// </remarks>
internal sealed class ProposalWaiter
{
    private readonly TaskCompletionSource<(NoKvErrorCode Code, bool Succeeded, ulong Index)> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _cancellation;

    /// <summary>A proposal nobody waits for (the leader's own session expiry): no deadline.</summary>
    public ProposalWaiter(byte[] command)
        : this(command, long.MaxValue)
    {
    }

    /// <param name="command">The encoded command to propose.</param>
    /// <param name="deadline"><see cref="Environment.TickCount64"/> after which the waiting caller is answered Timeout.</param>
    public ProposalWaiter(byte[] command, long deadline)
    {
        Command = command;
        Deadline = deadline;
    }

    /// <summary>The encoded command to propose.</summary>
    public byte[] Command { get; }

    /// <summary>When set, the proposal is this membership change (proposed as such) instead of <see cref="Command"/>.</summary>
    public NoKv.Raft.Messages.ConfChange? Change { get; init; }

    public long Deadline { get; }

    /// <summary>
    /// The command may stamp versions itself (a plain write, a one-phase commit): the leader proposes it only while its
    /// in-memory read floor is primed, right after a floor entry that carries the floor (docs/transactions.md).
    /// </summary>
    public bool Stamped { get; init; }

    /// <summary>
    /// A plain write the leader stamps without an oracle block (its floor is not primed and the oracle did not answer in
    /// time): proposed right after a <c>TxnUnanchor</c> entry instead of a floor entry (docs/transactions.md).
    /// </summary>
    public bool Unanchored { get; init; }

    /// <summary>A <c>TxnAnchor</c> entry: once proposed, an unanchored write needs a new unanchor entry before it.</summary>
    public bool IsAnchor { get; init; }

    /// <summary>
    /// A timestamp the command may raise the shard's highest version to (a commit's timestamp), or that its stamp must
    /// exceed (a one-phase commit's start); 0 for none. The leader keeps its stamps inside oracle blocks it holds.
    /// </summary>
    public long StampAtLeast { get; init; }

    /// <summary>The keys a stamped proposal writes (a snapshot read of one of them waits until it applied).</summary>
    public byte[][]? StampedKeys { get; init; }

    /// <summary>For a stamped proposal, set when proposed: at least the stamp its apply gives (0 until then).</summary>
    public long StampBound { get; set; }

    /// <summary>The command's richer answer (<see cref="StateMachine.ApplyOutcome.Result"/>), set before completion.</summary>
    public object? Result { get; set; }

    public ulong Index { get; set; }

    public ulong Term { get; set; }

    /// <summary>The applied command's result value (a lock's token or queue position), set before completion.</summary>
    public long Payload { get; set; }

    public bool IsCompleted => _done.Task.IsCompleted;

    public Task<(NoKvErrorCode Code, bool Succeeded, ulong Index)> Task => _done.Task;

    public void Complete(NoKvErrorCode code, bool succeeded, ulong index) => _done.TrySetResult((code, succeeded, index));

    /// <summary>Cancels the wait (not the proposal) when <paramref name="cancellationToken"/> is canceled; undone by <see cref="StopCancellation"/>.</summary>
    public void CancelWith(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((ProposalWaiter)state!)._done.TrySetCanceled(token), this);
        }
    }

    public void StopCancellation() => _cancellation.Dispose();
}
