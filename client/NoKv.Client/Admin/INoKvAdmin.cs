namespace NoKv.Client.Admin;

/// <summary>Operator queries: the shard map and every replica's Raft state.</summary>
public interface INoKvAdmin
{
    /// <summary>
    /// The current shard map and the status of every replica. A replica that does not answer within
    /// <paramref name="perReplicaTimeout"/> is reported with its error instead of failing the whole call.
    /// </summary>
    Task<ClusterStatus> GetClusterStatusAsync(TimeSpan perReplicaTimeout, CancellationToken cancellationToken = default);
}
