using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Routing;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Grains.Store;
using Orleans.Runtime;

namespace NoKv.Grains.Routing;

/// <summary>
/// The silo's <see cref="IStoreService"/>: hands each client request to the local replica it names with a
/// silo-local grain call (no network, no serialization), so a client that addresses this silo's gateway
/// reaches the replica in one hop. See <see cref="IStoreService"/> for why.
/// <para>Concurrency: a system target interleaves its requests, and each request only awaits the local
/// replica grain, which is reentrant and never calls back here: no request can wait on another. Methods return
/// the replica call's task directly, with no state machine of their own. Thread-safe.</para>
/// </summary>
public sealed class StoreService : GrainService, IStoreService
{
    private readonly LocalStore _store;
    private readonly IGrainFactory _grains;

    // One reference per local replica, built on first use; replica grain keys are strings, so this saves a
    // key string and a reference per request.
    private readonly ConcurrentDictionary<ShardId, IShardReplicaGrain> _replicas = new();

    public StoreService(GrainId grainId, Silo silo, ILoggerFactory loggerFactory, LocalStore store, IGrainFactory grains)
        : base(grainId, silo, loggerFactory)
    {
        _store = store;
        _grains = grains;
    }

    public Task<StoreId> DescribeAsync() => Task.FromResult(_store.Id);

    public Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request) => Replica(store, request.Shard).WriteAsync(request);

    /// <summary>Every request of a batch is for one shard (the first names it); the replica refuses any other one with WrongShard.</summary>
    public Task<WriteResponse[]> WriteBatchAsync(StoreId store, WriteRequest[] requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return requests.Length == 0 ? Task.FromResult(Array.Empty<WriteResponse>())
            : requests[0] is { } first ? Replica(store, first.Shard).WriteBatchAsync(requests)
            : throw new ArgumentException("Write batch entry 0 is null.", nameof(requests));
    }

    public Task<ReadResponse> GetAsync(StoreId store, ReadRequest request) => Replica(store, request.Shard).GetAsync(request);

    public Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request) => Replica(store, request.Shard).ScanAsync(request);

    public Task<TxnResponse> TxnAsync(StoreId store, TxnRequest request) => Replica(store, request.Shard).TxnAsync(request);

    public Task<NoKv.Abstractions.Locks.LockResponse> LockAsync(StoreId store, NoKv.Abstractions.Locks.LockRequest request) => Replica(store, request.Shard).LockAsync(request);

    private IShardReplicaGrain Replica(StoreId store, ShardId shard)
    {
        if (store != _store.Id)
        {
            // The caller's route is stale (another store now answers at this address). Serving it would forward
            // the call to the right silo and hide the extra hop; refusing makes the client rediscover routes.
            throw new StoreUnavailableException(store, $"this silo hosts store {_store.Id}, not store {store}.");
        }

        return _replicas.TryGetValue(shard, out var replica)
            ? replica
            : _replicas.GetOrAdd(shard, static (s, state) => state._grains.GetGrain<IShardReplicaGrain>(new ReplicaId(s, state._store.Id).ToGrainKey()), this);
    }
}
