using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>A replica a store still holds that its shard removed (<see cref="OrphanCollector"/>).</summary>
/// <param name="MapConfVersion">The membership version of the map's descriptor, which does not name the peer.</param>
public sealed record OrphanReplica(StoreId Store, ShardId Shard, ulong PeerId, long HeldConfVersion, long MapConfVersion)
{
    public override string ToString() =>
        $"orphan peer {PeerId} of shard {Shard} on store {Store} (its membership version {HeldConfVersion}, the map's {MapConfVersion} without it)";
}
