using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>A point read.</summary>
[GenerateSerializer, Immutable, Alias("nokv.ReadRequest")]
public sealed class ReadRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required long Epoch { get; init; }

    [Id(2)] public required byte[] Key { get; init; }

    [Id(3)] public ReadConsistency Consistency { get; init; }

    /// <summary>With BoundedStaleness: the largest acceptable lag behind the leader.</summary>
    [Id(4)] public TimeSpan MaxStaleness { get; init; }
}
