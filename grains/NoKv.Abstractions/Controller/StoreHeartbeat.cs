using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// What a store reports to the controller every heartbeat interval: where it is, its disk, and each replica it hosts.
/// The controller keeps it in memory only; what it commits is the store's state (up, down, ...).
/// </summary>
/// <param name="Held">Every replica the store holds on disk (null from a store of an older build: it reports none,
/// and the controller then destroys nothing there).</param>
/// <param name="DiskSlow">The store's log syncs have been slow lately (its own detector, docs/replica.md "Slow disks"):
/// the balancer then hands it no leaders and no replicas until it recovers.</param>
[GenerateSerializer, Immutable, Alias("nokv.StoreHeartbeat")]
public sealed record StoreHeartbeat(
    [property: Id(0)] StoreId Store,
    [property: Id(1)] string Address,
    [property: Id(2)] long CapacityBytes,
    [property: Id(3)] long AvailableBytes,
    [property: Id(4)] long UsedBytes,
    [property: Id(5)] ShardStats[] Shards,
    [property: Id(6)] HeldReplica[]? Held = null,
    [property: Id(7)] bool DiskSlow = false);
