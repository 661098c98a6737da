using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>An operation the planner wants started (<see cref="OperationPlanner"/>).</summary>
public sealed record PlannedOperation(OperationKind Kind, ShardId Shard, StoreId? From, StoreId To, ulong SourcePeer);
