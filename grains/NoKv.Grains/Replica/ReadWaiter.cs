using NoKv.Abstractions.Errors;

namespace NoKv.Grains.Replica;

/// <summary>
/// A linearizable read waiting for Raft to confirm a read index and for the state machine to apply up to
/// it. Completes with Ok (the caller then reads the local state) or a retryable error.
/// </summary>
internal sealed class ReadWaiter
{
    private readonly TaskCompletionSource<NoKvErrorCode> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ReadWaiter(long id) => Id = id;

    public long Id { get; }

    /// <summary>The confirmed read index; 0 until Raft answers.</summary>
    public ulong ReadIndex { get; set; }

    public Task<NoKvErrorCode> Task => _done.Task;

    public void Complete(NoKvErrorCode code) => _done.TrySetResult(code);
}
