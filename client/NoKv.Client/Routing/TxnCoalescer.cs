using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;

namespace NoKv.Client.Routing;

/// <summary>
/// Transactional requests batched per replica (<see cref="NoKvClientOptions.TxnBatching"/>): the prewrites,
/// commits, reads and status checks of many transactions to one shard share one
/// <see cref="ReplicaEndpoint.TxnBatchAsync"/>, and the leader proposes the commands among them in one Raft round.
/// Each request is still its own transaction's, answered on its own; requests of one transaction to one shard are
/// never in flight together (each step awaits the one before), so a batch holds only independent requests.
/// How lanes fill and drain: <see cref="ReplicaCallCoalescer{TRequest, TResponse}"/>.
/// </summary>
internal sealed class TxnCoalescer(int maxBatch, int maxInFlight, TimeSpan slotHold)
    : ReplicaCallCoalescer<TxnRequest, TxnResponse>(maxBatch, maxInFlight, slotHold)
{
    /// <summary>Sends <paramref name="request"/> to the replica behind <paramref name="endpoint"/>, alone or in a batch.</summary>
    public Task<TxnResponse> TxnAsync(ReplicaEndpoint endpoint, TxnRequest request, CancellationToken cancellationToken) =>
        SendAsync(endpoint, request, cancellationToken);

    protected override ShardId ShardOf(TxnRequest request) => request.Shard;

    protected override long SizeOf(TxnRequest request)
    {
        long bytes = (request.PrimaryKey?.Length ?? 0) + (request.Key?.Length ?? 0) + (request.End?.Length ?? 0);
        foreach (var m in request.Mutations ?? [])
        {
            bytes += m.Key.Length + (m.Value?.Length ?? 0);
        }

        foreach (var k in request.Keys ?? [])
        {
            bytes += k.Length;
        }

        foreach (var r in request.Ranges ?? [])
        {
            bytes += r.Start.Length + r.End.Length;
        }

        return bytes;
    }

    protected override Task<TxnResponse> SendOneAsync(ReplicaEndpoint endpoint, TxnRequest request, CancellationToken cancellationToken) =>
        endpoint.TxnAsync(request, cancellationToken);

    protected override Task<TxnResponse[]> SendBatchAsync(ReplicaEndpoint endpoint, TxnRequest[] requests) =>
        endpoint.TxnBatchAsync(requests);
}
