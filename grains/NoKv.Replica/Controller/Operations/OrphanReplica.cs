using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>A replica a store still holds that its shard removed, or whose shard was merged away (<see cref="OrphanCollector"/>).</summary>
/// <param name="MapConfVersion">The membership version of the map's descriptor, which does not name the peer; 0 when
/// the map no longer names the shard.</param>
/// <param name="MapEpoch">For a shard the map no longer names: the lowest epoch among the map's shards over the
/// replica's range, every one of them above the replica's own (the shard was merged away); 0 otherwise.</param>
public sealed record OrphanReplica(StoreId Store, ShardId Shard, ulong PeerId, long HeldConfVersion, long MapConfVersion, long MapEpoch = 0)
{
    /// <summary>True when the shard itself is gone from the map (merged away), not only the peer from the shard.</summary>
    public bool MergedAway => MapEpoch > 0;

    public override string ToString() => MergedAway
        ? $"orphan peer {PeerId} of shard {Shard} on store {Store} (the shard was merged away: every map shard over its range has an epoch of at least {MapEpoch}, above its own)"
        : $"orphan peer {PeerId} of shard {Shard} on store {Store} (its membership version {HeldConfVersion}, the {(Shard == SystemShards.Controller ? "group's own descriptor's" : "map's")} {MapConfVersion} without it)";
}
