using NoKv.Abstractions.Errors;

namespace NoKv.Replica.Waiters;

/// <summary>
/// A linearizable read waiting for Raft to confirm a read index and for the state machine to apply up to
/// it. Completes with Ok (the caller then reads the local state), a retryable error, Timeout once
/// <see cref="Deadline"/> has passed (checked by the replica's tick, like <see cref="ProposalWaiter"/>), or
/// canceled with the caller's token.
/// </summary>
internal sealed class ReadWaiter
{
    private readonly TaskCompletionSource<NoKvErrorCode> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _cancellation;

    /// <param name="id">Unique per replica activation; carried through Raft as the read's context.</param>
    /// <param name="deadline"><see cref="Environment.TickCount64"/> after which the waiting caller is answered Timeout.</param>
    public ReadWaiter(long id, long deadline)
    {
        Id = id;
        Deadline = deadline;
    }

    public long Id { get; }

    public long Deadline { get; }

    /// <summary>The confirmed read index; 0 until Raft answers.</summary>
    public ulong ReadIndex { get; set; }

    /// <summary>
    /// An index the state machine must also have applied before the read is served (a transactional read's last
    /// stamped proposal, docs/transactions.md); 0 for none.
    /// </summary>
    public ulong MinIndex { get; init; }

    /// <summary>The term in which this replica, as leader, registered the read; 0 when it was not the leader.</summary>
    public ulong LeaderTerm { get; set; }

    /// <summary>When the leader registered the read (its monotonic clock, ms): a read confirmed by a round renews the lease from here.</summary>
    public long RegisteredAtMs { get; set; }

    /// <summary>Registered under the leader's lease (no heartbeat round).</summary>
    public bool ByLease { get; set; }

    public bool IsCompleted => _done.Task.IsCompleted;

    public Task<NoKvErrorCode> Task => _done.Task;

    public void Complete(NoKvErrorCode code) => _done.TrySetResult(code);

    /// <summary>Cancels the wait when <paramref name="cancellationToken"/> is canceled; undone by <see cref="StopCancellation"/>.</summary>
    public void CancelWith(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((ReadWaiter)state!)._done.TrySetCanceled(token), this);
        }
    }

    public void StopCancellation() => _cancellation.Dispose();
}
