using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>A completed split: the shard as it is now and the new shard, both as committed in the map.</summary>
[GenerateSerializer, Immutable, Alias("nokv.SplitOutcome")]
public sealed record SplitOutcome([property: Id(0)] ShardDescriptor Left, [property: Id(1)] ShardDescriptor Right);
