using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Telemetry;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// What a store reports to the controller every heartbeat interval: where it is, its disk, and each replica it hosts.
/// The controller keeps it in memory only; what it commits is the store's state (up, down, ...).
/// </summary>
/// <param name="Held">Every replica the store holds on disk (null from a store of an older build: it reports none,
/// and the controller then destroys nothing there).</param>
/// <param name="DiskSlow">The store's log syncs have been slow lately (its own detector, docs/replica.md "Slow disks"):
/// the balancer then hands it no leaders and no replicas until it recovers.</param>
/// <param name="HotKeys">The keys this store's leaders served most in the last complete hot-key window, hottest first
/// (at most <see cref="MaxHotKeys"/>, each key cut to <see cref="MaxHotKeyBytes"/>; null from an older build). The
/// controller keeps them in memory, shows them, and may split a hot shard between them.</param>
/// <param name="FormatLevel">The command formats this store's build reads, as a level that only grows with builds
/// (docs/format-commands.md, "Gate"); 0 from a build before levels. The controller publishes the lowest level of all
/// its stores, and leaders propose a newer command only once that level covers it.</param>
[GenerateSerializer, Immutable, Alias("nokv.StoreHeartbeat")]
public sealed record StoreHeartbeat(
    [property: Id(0)] StoreId Store,
    [property: Id(1)] string Address,
    [property: Id(2)] long CapacityBytes,
    [property: Id(3)] long AvailableBytes,
    [property: Id(4)] long UsedBytes,
    [property: Id(5)] ShardStats[] Shards,
    [property: Id(6)] HeldReplica[]? Held = null,
    [property: Id(7)] bool DiskSlow = false,
    [property: Id(8)] HotKeyReport[]? HotKeys = null,
    [property: Id(9)] int FormatLevel = 0)
{
    /// <summary>Hot keys one heartbeat carries at most.</summary>
    public const int MaxHotKeys = 16;

    /// <summary>Bytes of a hot key one heartbeat carries at most (a longer key is cut: its prefix still sorts next to it).</summary>
    public const int MaxHotKeyBytes = 128;
}
