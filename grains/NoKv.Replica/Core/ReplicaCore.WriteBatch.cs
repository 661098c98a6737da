using NoKv.Abstractions.Requests;

namespace NoKv.Replica.Core;

public sealed partial class ReplicaCore
{
    // Above zero while WriteBatchAsync queues its writes: PumpAsync then returns at once, so the whole batch reaches
    // the Raft node in one DrainInbox (one Ready, one log write and one Append per follower) instead of the first
    // write going alone and the rest waiting for its round.
    private int _pumpHeld;

    /// <summary>
    /// Several writes in one call: each is checked, proposed, applied and answered exactly as by
    /// <see cref="WriteAsync"/>, one response per request in request order. Writes that are ready to propose at once
    /// (the usual case: this replica leads and its read floor is primed) enter the Raft log in request order within
    /// one round, so a caller's order among them is the log's order. A write that must wait first (priming the read
    /// floor after a leader change) is proposed when its wait ends, after the others; callers that need an order
    /// across such a wait must not batch dependent writes (the client batches only writes that are independent).
    /// </summary>
    /// <exception cref="ArgumentException">An entry is null (nothing is proposed).</exception>
    public async Task<WriteResponse[]> WriteBatchAsync(IReadOnlyList<WriteRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        for (int i = 0; i < requests.Count; i++)
        {
            if (requests[i] is null)
            {
                throw new ArgumentException($"Write batch entry {i} is null.", nameof(requests));
            }
        }

        var pending = new Task<WriteResponse>[requests.Count];
        _pumpHeld++;
        try
        {
            for (int i = 0; i < pending.Length; i++)
            {
                pending[i] = WriteAsync(requests[i], cancellationToken);
            }
        }
        finally
        {
            _pumpHeld--;
        }

        await PumpAsync().ConfigureAwait(true);
        return await Task.WhenAll(pending).ConfigureAwait(true);
    }
}
