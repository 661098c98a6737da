using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Admin;

/// <summary>A snapshot of the cluster for operators: the shard map and one report per replica.</summary>
public sealed record ClusterStatus(ShardMap Map, IReadOnlyList<ReplicaReport> Replicas);
