namespace NoKv.Abstractions.Sharding;

/// <summary>A store as the cluster currently sees it: id, the silo hosting it (if up) and liveness.</summary>
[GenerateSerializer, Immutable, Alias("nokv.StoreDescriptor")]
public sealed record StoreDescriptor(
    [property: Id(0)] StoreId Id,
    [property: Id(1)] string? SiloAddress,
    [property: Id(2)] bool IsUp);
