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

    /// <summary>
    /// Several writes to this shard in one call, answered one response per request in request order. The leader
    /// proposes them in that order in one Raft round (their log indexes follow the array), so writes from one
    /// caller keep their order; each is checked, applied and answered on its own, exactly as by <see cref="WriteAsync"/>
    /// (a refused or failed request does not affect the others).
    /// </summary>
    [Alias("WriteBatch")]
    Task<WriteResponse[]> WriteBatchAsync(WriteRequest[] requests, CancellationToken cancellationToken = default);

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

    /// <summary>Timestamps from the oracle; only the controller group's leader serves them (docs/controller.md).</summary>
    [Alias("Timestamps")]
    Task<Controller.TimestampResponse> TimestampsAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>Raft messages from a peer replica of the same shard. Fire-and-forget.</summary>
    [OneWay, Alias("Deliver")]
    Task DeliverAsync(RaftMessageBatch batch);

    [Alias("Status")]
    Task<ReplicaStatus> GetStatusAsync();

    /// <summary>Activates the replica (and so its Raft node) without doing anything else; used at silo start.</summary>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>
    /// Activates a split's new replica once the split applied on this store; with <paramref name="campaign"/> (the split
    /// shard's replica here led when it applied) the new replica also campaigns at once (docs/replica.md, "Split").
    /// </summary>
    [Alias("StartAfterSplit")]
    Task StartAfterSplitAsync(bool campaign);

    /// <summary>Proposes a split of this shard (its leader answers; docs/replica.md, "Split").</summary>
    [Alias("Split")]
    Task<WriteResponse> SplitAsync(SplitShardRequest request);

    /// <summary>Proposes one command of a merge to this shard (its leader answers; docs/replica.md, "Merge").</summary>
    [Alias("Merge")]
    Task<WriteResponse> MergeAsync(MergeShardRequest request);

    /// <summary>The key that halves this replica's rows by size, or null when it holds fewer than two keys.</summary>
    [Alias("MiddleKey")]
    Task<byte[]?> GetMiddleKeyAsync();

    /// <summary>
    /// Creates an empty replica of <paramref name="shard"/> for the new peer <paramref name="peerId"/> on this grain's
    /// store (the controller, before adding the peer as a learner). It waits for the leader's snapshot. Idempotent
    /// (AlreadyDone for the same peer); Refused when the store holds another peer of the shard or used the peer id.
    /// </summary>
    [Alias("CreateReplica")]
    Task<ReplicaAdminResult> CreateReplicaAsync(Sharding.ShardDescriptor shard, ulong peerId);

    /// <summary>
    /// Proposes one membership change on this replica, which must lead, and answers once it is applied here
    /// (NotLeader with a hint otherwise; InvalidRange with a detail when it contradicts the membership).
    /// </summary>
    [Alias("ChangeMembership")]
    Task<WriteResponse> ChangeMembershipAsync(Sharding.MembershipChangeKind kind, Sharding.PeerDescriptor peer, CancellationToken cancellationToken = default);

    /// <summary>Asks this replica, which must lead, to hand leadership to the voter on <paramref name="store"/>.</summary>
    [Alias("TransferLeader")]
    Task<WriteResponse> TransferLeaderAsync(Sharding.StoreId store);

    /// <summary>
    /// Destroys this store's replica if it is peer <paramref name="peerId"/>, which the shard must have removed: closes
    /// it, deletes its log and state and the data no other local replica covers, and leaves a tombstone so the peer
    /// never comes back. Idempotent.
    /// </summary>
    [Alias("DestroyReplica")]
    Task<ReplicaAdminResult> DestroyReplicaAsync(ulong peerId);

    /// <summary>
    /// Destroys this store's replica if it is peer <paramref name="peerId"/> and its own descriptor is older than
    /// <paramref name="mapConfVersion"/>, the membership version at which the controller's map no longer names it
    /// (an orphan: removed while its store was away). Refused, changing nothing, if the replica knows a membership at
    /// least as new as the map's, since then the map cannot prove the removal. Idempotent.
    /// </summary>
    [Alias("DestroyOrphan")]
    Task<ReplicaAdminResult> DestroyOrphanAsync(ulong peerId, long mapConfVersion);

    /// <summary>
    /// Destroys this store's replica if it is peer <paramref name="peerId"/> of a shard the controller's map no longer
    /// names and its own descriptor's epoch is below <paramref name="mapEpoch"/>, the lowest epoch of the map's shards
    /// over its range (its shard was merged away while its store was away). Refused, changing nothing, if the replica
    /// knows an epoch at least that high. Idempotent.
    /// </summary>
    [Alias("DestroyMergedAwayOrphan")]
    Task<ReplicaAdminResult> DestroyMergedAwayOrphanAsync(ulong peerId, long mapEpoch);
}
