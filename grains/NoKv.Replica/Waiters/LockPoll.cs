namespace NoKv.Replica.Waiters;

/// <summary>
/// A queued acquirer's bounded long-poll on the lock leader: completed with true when an apply changed the lock (or
/// leadership moved), with false once <see cref="Deadline"/> passed (checked by the replica's tick). Completions run
/// continuations asynchronously, so the pump never runs the caller's code inline. Not thread-safe except completion.
/// </summary>
internal sealed class LockPoll
{
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LockPoll(byte[] name, Guid owner, long deadline)
    {
        Name = name;
        Owner = owner;
        Deadline = deadline;
    }

    public byte[] Name { get; }

    public Guid Owner { get; }

    /// <summary>The host's <c>NowMs</c> after which the poll ends.</summary>
    public long Deadline { get; }

    public bool IsCompleted => _done.Task.IsCompleted;

    public void Complete(bool changed) => _done.TrySetResult(changed);

    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<bool>)state!).TrySetCanceled(token), _done)
            : default;
        return await _done.Task.ConfigureAwait(true);
    }
}
