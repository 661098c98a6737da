using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Admin;

/// <summary>
/// A snapshot of the cluster for operators: the shard map, one report per replica, and the controller's view (stores
/// with their committed state and load, leaders and load per shard, operations in progress) with the status of the
/// controller group's own replicas. <see cref="Controller"/> is null (and <see cref="ControllerError"/> says why) when
/// the controller did not answer.
/// </summary>
public sealed record ClusterStatus(ShardMap Map, IReadOnlyList<ReplicaReport> Replicas)
{
    public ControllerView? Controller { get; init; }

    public string? ControllerError { get; init; }

    /// <summary>The controller group's replicas (shard <see cref="SystemShards.Controller"/>).</summary>
    public IReadOnlyList<ReplicaReport> ControllerReplicas { get; init; } = [];

    /// <summary>The controller group's leader as its replicas report it (the one that says it leads), or null.</summary>
    public StoreId? ControllerLeader => ControllerReplicas.FirstOrDefault(r => r.Status is { Role: Abstractions.Status.ReplicaRole.Leader })?.Replica.Store;
}
