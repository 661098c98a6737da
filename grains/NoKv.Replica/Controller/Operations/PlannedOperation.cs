using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>An operation the planner wants started (<see cref="OperationPlanner"/>).</summary>
/// <param name="From">The store whose replica goes; null when the controller group grows by a replica.</param>
/// <param name="To">The store that receives a replica; null when the controller group shrinks by one.</param>
public sealed record PlannedOperation(OperationKind Kind, ShardId Shard, StoreId? From, StoreId? To, ulong SourcePeer);
