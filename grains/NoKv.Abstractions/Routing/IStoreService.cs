using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using Orleans.Services;

namespace NoKv.Abstractions.Routing;

/// <summary>
/// A store's front door: one instance per silo (an Orleans grain service, i.e. a system target), serving
/// client requests for the replicas of the silo's own store with silo-local grain calls.
/// <para>Why it exists: an Orleans client sends an ordinary grain call through a gateway chosen per grain
/// bucket, round-robin, so most requests land on a silo that does not host the replica and are forwarded
/// (two extra message hops, each deserialized and serialized again). A system target's id names its silo,
/// and a client sends such a message straight to that silo's gateway, which serves it locally. Address it
/// with <see cref="StoreServiceIds.At"/>.</para>
/// <para>No method takes a CancellationToken: a token on a grain call costs a cancellation registration on
/// both ends of each hop, and cancelling cannot withdraw a proposed write anyway. The client stops waiting on
/// its own (per-attempt timeout, caller's token); the replica bounds its wait with its request timeout.</para>
/// <para>Every call names the store the caller meant; a silo hosting another store throws
/// <see cref="Errors.StoreUnavailableException"/> (retryable) instead of serving it, so a stale route can never
/// quietly cost a hop. Replica answers (NotLeader, WrongShard, ...) pass through unchanged. The service never
/// waits on anything but the local replica, which never calls the service, so no call cycle exists.</para>
/// </summary>
[Alias("nokv.IStoreService")]
public interface IStoreService : IGrainService
{
    /// <summary>The store this silo hosts; a client learns each gateway's store with it.</summary>
    [Alias("Describe")]
    Task<StoreId> DescribeAsync();

    [Alias("Write")]
    Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request);

    /// <summary>Several writes to one shard of <paramref name="store"/> (see <see cref="Grains.IShardReplicaGrain.WriteBatchAsync"/>).</summary>
    [Alias("WriteBatch")]
    Task<WriteResponse[]> WriteBatchAsync(StoreId store, WriteRequest[] requests);

    [Alias("Get")]
    Task<ReadResponse> GetAsync(StoreId store, ReadRequest request);

    [Alias("Scan")]
    Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request);

    [Alias("Txn")]
    Task<TxnResponse> TxnAsync(StoreId store, TxnRequest request);

    [Alias("Lock")]
    Task<Locks.LockResponse> LockAsync(StoreId store, Locks.LockRequest request);
}
