using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>A shard's leader and load as last reported by its leader's store (null leader: none reported one).</summary>
[GenerateSerializer, Immutable, Alias("nokv.ShardLoad")]
public sealed record ShardLoad(
    [property: Id(0)] ShardId Shard,
    [property: Id(1)] StoreId? Leader,
    [property: Id(2)] double WritesPerSecond,
    [property: Id(3)] double ReadsPerSecond,
    [property: Id(4)] long? ApproximateBytes,
    [property: Id(5)] long? ApproximateKeys);
