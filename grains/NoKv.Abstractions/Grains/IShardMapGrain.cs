using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Grains;

/// <summary>
/// Serves the cluster's shard map; use key 0 (<see cref="ShardMapGrainKeys.Cluster"/>).
/// The map is the one committed in the controller group (docs/controller.md), served by every silo from a short-lived
/// copy, with live store status from the silo's membership view.
/// </summary>
[Alias("nokv.IShardMapGrain")]
public interface IShardMapGrain : IGrainWithIntegerKey
{
    /// <summary>The current map. Callers keep whichever of their cached map and this one has the larger version.</summary>
    [Alias("GetMap")]
    Task<ShardMap> GetShardMapAsync();

    /// <summary>
    /// The current map, read again from the controller first (not from the silo's short-lived copy) when that copy is
    /// not newer than <paramref name="newerThan"/>: what a client asks after a replica answered WrongShard to a request
    /// routed with map version <paramref name="newerThan"/>. Concurrent callers share one read.
    /// </summary>
    [Alias("GetNewerMap")]
    Task<ShardMap> GetShardMapAsync(long newerThan);
}
