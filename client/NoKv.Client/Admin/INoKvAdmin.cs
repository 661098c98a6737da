using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Admin;

/// <summary>Operator queries (the shard map and every replica's Raft state) and operations (splits, moves, decommissioning; docs/controller.md).</summary>
public interface INoKvAdmin
{
    /// <summary>
    /// The current shard map and the status of every replica. A replica that does not answer within
    /// <paramref name="perReplicaTimeout"/> is reported with its error instead of failing the whole call.
    /// </summary>
    Task<ClusterStatus> GetClusterStatusAsync(TimeSpan perReplicaTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Splits <paramref name="shard"/> at <paramref name="key"/> (null: the key that halves its rows by size) through the
    /// controller (docs/controller.md, "Split") and answers with both halves once the map holds them.
    /// </summary>
    /// <exception cref="ArgumentException">No such user shard, or the key is not strictly inside its range (or, without a
    /// key, the shard holds too few keys to split).</exception>
    Task<NoKv.Abstractions.Controller.SplitOutcome> SplitShardAsync(NoKv.Abstractions.Sharding.ShardId shard, byte[]? key = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Merges <paramref name="source"/> into its adjacent neighbour <paramref name="target"/> through the controller
    /// (docs/controller.md, "Merge"); both must have replicas on the same stores. Answers with the merged shard once the
    /// map holds it.
    /// </summary>
    /// <exception cref="ArgumentException">A shard is unknown, the two are not adjacent or not co-located, or one is busy.</exception>
    /// <exception cref="InvalidOperationException">The merge rolled back (the source could not be frozen on every store in time).</exception>
    Task<NoKv.Abstractions.Controller.MergeOutcome> MergeShardsAsync(NoKv.Abstractions.Sharding.ShardId source, NoKv.Abstractions.Sharding.ShardId target, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts moving <paramref name="shard"/>'s replica from store <paramref name="from"/> to store <paramref name="to"/>
    /// (learner on the target, catch up, promote, hand leadership over, remove the source). Returns the operation id;
    /// <see cref="GetClusterStatusAsync"/> shows its progress until it is gone.
    /// </summary>
    /// <exception cref="ArgumentException">The move contradicts the map (the source holds no replica, the target
    /// already holds one or cannot take replicas) or the shard has an operation in progress.</exception>
    Task<long> MoveReplicaAsync(ShardId shard, StoreId from, StoreId to, CancellationToken cancellationToken = default);

    /// <summary>Marks a store decommissioning: the controller moves its replicas away, then marks it removed.</summary>
    /// <exception cref="ArgumentException">The store is unknown to the controller.</exception>
    Task DecommissionStoreAsync(StoreId store, CancellationToken cancellationToken = default);

    /// <summary>Starts handing <paramref name="shard"/>'s leadership to its voter on <paramref name="to"/>; returns the operation id.</summary>
    /// <exception cref="ArgumentException">The store holds no voter of the shard, or the shard has an operation in progress.</exception>
    Task<long> TransferLeaderAsync(ShardId shard, StoreId to, CancellationToken cancellationToken = default);
}
