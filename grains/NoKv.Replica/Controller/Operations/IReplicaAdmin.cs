using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// How controller operations reach the replicas of user shards: grain calls in a silo, in-memory fakes or simulated
/// cores in tests. A call that gets no answer (a dead silo, a timeout) throws; the runners treat every exception as
/// "no answer, try again later".
/// </summary>
public interface IReplicaAdmin
{
    /// <summary>Wall-clock Unix milliseconds (operation step timestamps and timeouts).</summary>
    long WallClockMs { get; }

    /// <summary>The replica's status; a status with peer id 0 means the store holds no replica of the shard.</summary>
    Task<ReplicaStatus> StatusAsync(ShardId shard, StoreId store, CancellationToken cancellationToken);

    Task<ReplicaAdminResult> CreateAsync(StoreId store, ShardDescriptor shard, ulong peerId, CancellationToken cancellationToken);

    /// <summary>Proposes a membership change on the replica of <paramref name="leader"/>, which should lead.</summary>
    Task<WriteResponse> ChangeAsync(StoreId leader, ShardId shard, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken);

    Task<WriteResponse> TransferLeaderAsync(StoreId leader, ShardId shard, StoreId to, CancellationToken cancellationToken);

    /// <summary>Proposes one command of a merge (<see cref="MergeShardRequest.Step"/>) on the replica of <see cref="MergeShardRequest.Shard"/> on <paramref name="store"/>, which should lead.</summary>
    Task<WriteResponse> MergeAsync(StoreId store, MergeShardRequest request, CancellationToken cancellationToken);

    Task<ReplicaAdminResult> DestroyAsync(StoreId store, ShardId shard, ulong peerId, CancellationToken cancellationToken);

    /// <summary>
    /// Destroys the orphan's peer on its store only if the replica's own descriptor proves it one (see
    /// <see cref="OrphanCollector"/>): a membership version older than the map's, or, for a shard merged away, an epoch
    /// below every map shard's over its range. Refused otherwise.
    /// </summary>
    Task<ReplicaAdminResult> DestroyOrphanAsync(OrphanReplica orphan, CancellationToken cancellationToken);
}
