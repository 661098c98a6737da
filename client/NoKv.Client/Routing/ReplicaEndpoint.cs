using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Routing;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;

namespace NoKv.Client.Routing;

/// <summary>
/// Where one attempt sends a replica request: through the store's <see cref="IStoreService"/> when a direct
/// route is known (one hop to the replica's silo), else as a plain call to the replica grain (Orleans routes it,
/// possibly through another silo). Both answer identically; only the path differs. The caller bounds each
/// attempt with its own token (the store service takes none, see <see cref="IStoreService"/>).
/// </summary>
internal readonly struct ReplicaEndpoint
{
    private readonly IStoreService? _service;
    private readonly IShardReplicaGrain? _replica;

    public ReplicaEndpoint(StoreId store, IStoreService service)
    {
        Store = store;
        _service = service;
        _replica = null;
    }

    public ReplicaEndpoint(StoreId store, IShardReplicaGrain replica)
    {
        Store = store;
        _service = null;
        _replica = replica;
    }

    public StoreId Store { get; }

    /// <summary>The direct route this attempt used, or null for a plain grain call.</summary>
    public IStoreService? Service => _service;

    public Task<WriteResponse> WriteAsync(WriteRequest request, CancellationToken cancellationToken) =>
        _service is { } service ? service.WriteAsync(Store, request) : _replica!.WriteAsync(request, cancellationToken);

    /// <summary>Several writes to one shard in one call (no token: the caller bounds each write's wait on its own).</summary>
    public Task<WriteResponse[]> WriteBatchAsync(WriteRequest[] requests) =>
        _service is { } service ? service.WriteBatchAsync(Store, requests) : _replica!.WriteBatchAsync(requests);

    public Task<ReadResponse> GetAsync(ReadRequest request, CancellationToken cancellationToken) =>
        _service is { } service ? service.GetAsync(Store, request) : _replica!.GetAsync(request, cancellationToken);

    public Task<ScanResponse> ScanAsync(ScanRequest request, CancellationToken cancellationToken) =>
        _service is { } service ? service.ScanAsync(Store, request) : _replica!.ScanAsync(request, cancellationToken);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        _service is { } service ? service.TxnAsync(Store, request) : _replica!.TxnAsync(request, cancellationToken);

    public Task<NoKv.Abstractions.Locks.LockResponse> LockAsync(NoKv.Abstractions.Locks.LockRequest request, CancellationToken cancellationToken) =>
        _service is { } service ? service.LockAsync(Store, request) : _replica!.LockAsync(request, cancellationToken);
}
