using NoKv.Abstractions.Controller;

namespace NoKv.Abstractions.Grains;

/// <summary>
/// The controller's logic (docs/controller.md); use key 0 (<see cref="ShardMapGrainKeys.Cluster"/>). One activation per
/// cluster: it keeps heartbeats in memory and commits store state changes to the controller group. Its state lives in
/// the group, so a new activation after a silo failure picks up where the last committed change left it.
/// </summary>
[Alias("nokv.IControllerGrain")]
public interface IControllerGrain : IGrainWithIntegerKey
{
    /// <summary>A store's periodic report.</summary>
    [Alias("Heartbeat")]
    Task HeartbeatAsync(StoreHeartbeat heartbeat);

    /// <summary>
    /// The status-collection point (docs/transactions.md, "GC"): the minimum, over every user shard of the committed map,
    /// of the lock-free points reported for it at its current epoch; 0 while any shard has no such report (a missing
    /// report stalls collection, it never makes it unsafe). Every transaction that started below it holds no lock on any
    /// shard and can lock none any more, so its status row may go.
    /// </summary>
    [Alias("GetStatusCollectionPoint")]
    Task<long> GetStatusCollectionPointAsync();

    /// <summary>
    /// The cluster's command format level (docs/format-commands.md, "Gate"): the lowest level among the stores the
    /// controller has recorded and not removed, as their heartbeats report it (a store not heard from since the
    /// controller started counts as the base level). Leaders propose a command that needs a higher level only once this
    /// reaches it.
    /// </summary>
    [Alias("GetClusterFormatLevel")]
    Task<int> GetClusterFormatLevelAsync();

    /// <summary>The committed map, stores and operations with the latest reported load.</summary>
    [Alias("GetView")]
    Task<ControllerView> GetViewAsync();

    /// <summary>
    /// Splits <paramref name="shard"/> at <paramref name="key"/> (null: the key that halves it by size) as a controller
    /// operation (docs/controller.md, "Split") and answers once the map holds both halves.
    /// </summary>
    /// <exception cref="ArgumentException">No such user shard, or the key is not strictly inside its range.</exception>
    [Alias("SplitShard")]
    Task<SplitOutcome> SplitShardAsync(Sharding.ShardId shard, byte[]? key);

    /// <summary>
    /// Merges <paramref name="source"/> into its adjacent neighbour <paramref name="target"/> as a controller operation
    /// (docs/controller.md, "Merge") and answers once the map holds the merged shard.
    /// </summary>
    /// <exception cref="ArgumentException">A shard is unknown, the two are not adjacent or not on the same stores, or one is busy.</exception>
    /// <exception cref="InvalidOperationException">The merge rolled back.</exception>
    [Alias("MergeShards")]
    Task<MergeOutcome> MergeShardsAsync(Sharding.ShardId source, Sharding.ShardId target);

    /// <summary>
    /// Starts an operation: <see cref="OperationKind.MoveReplica"/> of <paramref name="shard"/>'s replica from store
    /// <paramref name="from"/> to <paramref name="to"/>, or <see cref="OperationKind.TransferLeader"/> to
    /// <paramref name="to"/>. Returns the operation id; it then runs in the controller's operation loop.
    /// </summary>
    /// <exception cref="ArgumentException">The operation contradicts the map, or the shard has one in progress.</exception>
    [Alias("StartOperation")]
    Task<long> StartOperationAsync(OperationKind kind, Sharding.ShardId shard, Sharding.StoreId? from, Sharding.StoreId to);

    /// <summary>Marks a store decommissioning: its replicas are moved away, then it is marked removed.</summary>
    /// <exception cref="ArgumentException">The store is unknown to the controller.</exception>
    [Alias("DecommissionStore")]
    Task DecommissionStoreAsync(Sharding.StoreId store);
}
