using NoKv.Abstractions.Errors;

namespace NoKv.Grains.Replica;

/// <summary>
/// A client write waiting for its log entry to apply. Completed exactly once: with the apply outcome when
/// the entry at <see cref="Index"/> applies with <see cref="Term"/>, or with ProposalDropped when another
/// term's entry took that index or leadership was lost (the write may still commit; the client's retry
/// with the same session sequence gets the recorded outcome).
/// </summary>
internal sealed class ProposalWaiter
{
    private readonly TaskCompletionSource<(NoKvErrorCode Code, bool Succeeded, ulong Index)> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ProposalWaiter(byte[] command) => Command = command;

    /// <summary>The encoded command to propose.</summary>
    public byte[] Command { get; }

    public ulong Index { get; set; }

    public ulong Term { get; set; }

    public Task<(NoKvErrorCode Code, bool Succeeded, ulong Index)> Task => _done.Task;

    public void Complete(NoKvErrorCode code, bool succeeded, ulong index) => _done.TrySetResult((code, succeeded, index));
}
