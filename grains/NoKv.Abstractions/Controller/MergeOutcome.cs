using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>A completed merge: the target as committed in the map, covering both ranges (the source left the map).</summary>
[GenerateSerializer, Immutable, Alias("nokv.MergeOutcome")]
public sealed record MergeOutcome([property: Id(0)] ShardDescriptor Merged, [property: Id(1)] ShardId Source);
