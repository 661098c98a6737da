using Orleans.Concurrency;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Status;
using NoKv.Abstractions.Transactions;

namespace NoKv.Abstractions.Grains;

/// <summary>
/// One replica of one shard, keyed by <see cref="Sharding.ReplicaId.ToGrainKey"/> ("shard/store") and pinned
/// by <see cref="Placement.ShardReplicaPlacementAttribute"/> to the silo owning that store.
/// Client calls (write, get, scan) are answered by the leader; the others answer NotLeader with a hint.
/// Replicas talk to each other only through <see cref="DeliverAsync"/>, which is one-way so no replica ever
/// waits on a peer that might be waiting on it.
/// </summary>
[Alias("nokv.IShardReplicaGrain")]
public interface IShardReplicaGrain : IGrainWithStringKey
{
    [Alias("Write")]
    Task<WriteResponse> WriteAsync(WriteRequest request, CancellationToken cancellationToken = default);

    [Alias("Get")]
    Task<ReadResponse> GetAsync(ReadRequest request, CancellationToken cancellationToken = default);

    [Alias("Scan")]
    Task<ScanResponse> ScanAsync(ScanRequest request, CancellationToken cancellationToken = default);

    /// <summary>A transactional request (docs/transactions.md); answered by the leader.</summary>
    [Alias("Txn")]
    Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default);

    /// <summary>A lock service request for a lock this shard owns (docs/locks.md).</summary>
    [Alias("Lock")]
    Task<Locks.LockResponse> LockAsync(Locks.LockRequest request, CancellationToken cancellationToken = default);

    /// <summary>Raft messages from a peer replica of the same shard. Fire-and-forget.</summary>
    [OneWay, Alias("Deliver")]
    Task DeliverAsync(RaftMessageBatch batch);

    [Alias("Status")]
    Task<ReplicaStatus> GetStatusAsync();

    /// <summary>Activates the replica (and so its Raft node) without doing anything else; used at silo start.</summary>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>Proposes a split of this shard (its leader answers; docs/replica.md, "Split").</summary>
    [Alias("Split")]
    Task<WriteResponse> SplitAsync(SplitShardRequest request);

    /// <summary>The key that halves this replica's rows by size, or null when it holds fewer than two keys.</summary>
    [Alias("MiddleKey")]
    Task<byte[]?> GetMiddleKeyAsync();
}
