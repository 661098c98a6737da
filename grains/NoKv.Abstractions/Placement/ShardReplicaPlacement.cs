using Orleans.Runtime;

namespace NoKv.Abstractions.Placement;

/// <summary>
/// Placement strategy for replica grains: activate only on the silo whose store the grain key names, and
/// fail with StoreUnavailable when that silo is not alive. Data only; NoKv.Grains' ShardReplicaPlacementDirector
/// holds the behaviour.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("nokv.ShardReplicaPlacement")]
public sealed class ShardReplicaPlacement : PlacementStrategy
{
    public static ShardReplicaPlacement Instance { get; } = new();
}
