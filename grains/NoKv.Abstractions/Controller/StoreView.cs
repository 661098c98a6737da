using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Telemetry;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// A store as the controller sees it: its committed state and its last reported load. <see cref="Leaders"/> counts the
/// shards it leads now (heartbeats), <see cref="PreferredLeaders"/> those whose committed preferred leader it is (what
/// the balancer evens out). <see cref="HotKeys"/>: the keys its leaders served most, from its latest heartbeat.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.StoreView")]
public sealed record StoreView(
    [property: Id(0)] StoreId Id,
    [property: Id(1)] string? Address,
    [property: Id(2)] StoreState State,
    [property: Id(3)] long CapacityBytes,
    [property: Id(4)] long AvailableBytes,
    [property: Id(5)] long UsedBytes,
    [property: Id(6)] long? LastHeartbeatAgeMs,
    [property: Id(7)] int Replicas,
    [property: Id(8)] int Leaders,
    [property: Id(9)] double WritesPerSecond,
    [property: Id(10)] double ReadsPerSecond,
    [property: Id(11)] long StateSinceUnixMs,
    [property: Id(12)] int PreferredLeaders = 0,
    [property: Id(13)] bool DiskSlow = false,
    [property: Id(14)] HotKeyReport[]? HotKeys = null);
