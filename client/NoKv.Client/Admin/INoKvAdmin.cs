namespace NoKv.Client.Admin;

/// <summary>Operator queries (the shard map and every replica's Raft state) and operations (splits).</summary>
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
}
