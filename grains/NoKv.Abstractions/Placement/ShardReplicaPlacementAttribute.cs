using Orleans.Placement;

namespace NoKv.Abstractions.Placement;

/// <summary>Marks a grain class keyed by "shard/store" for <see cref="ShardReplicaPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardReplicaPlacementAttribute : PlacementAttribute
{
    public ShardReplicaPlacementAttribute()
        : base(ShardReplicaPlacement.Instance)
    {
    }
}
