using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Grains;

/// <summary>
/// Serves the cluster's shard map; use key 0 (<see cref="ShardMapGrainKeys.Cluster"/>).
/// Today the map is the static bootstrap layout plus live store status; the Raft-replicated controller
/// that will own splits and moves implements this same interface, so clients do not change.
/// </summary>
[Alias("nokv.IShardMapGrain")]
public interface IShardMapGrain : IGrainWithIntegerKey
{
    /// <summary>The current map. Callers keep whichever of their cached map and this one has the larger version.</summary>
    [Alias("GetMap")]
    Task<ShardMap> GetShardMapAsync();
}
