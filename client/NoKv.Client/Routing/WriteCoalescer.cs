using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Routing;

/// <summary>
/// Plain writes batched per replica (<see cref="NoKvClientOptions.WriteBatching"/>): queued writes leave together in
/// one <see cref="ReplicaEndpoint.WriteBatchAsync"/>, which the leader proposes in one Raft round in queue order.
/// How lanes fill and drain: <see cref="ReplicaCallCoalescer{TRequest, TResponse}"/>.
/// </summary>
internal sealed class WriteCoalescer(int maxBatch, int maxInFlight, TimeSpan slotHold)
    : ReplicaCallCoalescer<WriteRequest, WriteResponse>(maxBatch, maxInFlight, slotHold)
{
    /// <summary>Writes sent in batched calls so far; for diagnostics and tests.</summary>
    public long BatchedWrites => BatchedRequests;

    /// <summary>Sends <paramref name="request"/> to the replica behind <paramref name="endpoint"/>, alone or in a batch.</summary>
    public Task<WriteResponse> WriteAsync(ReplicaEndpoint endpoint, WriteRequest request, CancellationToken cancellationToken) =>
        SendAsync(endpoint, request, cancellationToken);

    protected override ShardId ShardOf(WriteRequest request) => request.Shard;

    protected override long SizeOf(WriteRequest request) =>
        request.Key.Length + (request.Value?.Length ?? 0) + (request.Expected?.Length ?? 0);

    protected override Task<WriteResponse> SendOneAsync(ReplicaEndpoint endpoint, WriteRequest request, CancellationToken cancellationToken) =>
        endpoint.WriteAsync(request, cancellationToken);

    protected override Task<WriteResponse[]> SendBatchAsync(ReplicaEndpoint endpoint, WriteRequest[] requests) =>
        endpoint.WriteBatchAsync(requests);
}
