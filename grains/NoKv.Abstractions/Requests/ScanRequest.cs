using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>
/// A range read within one shard: keys in [Start, End) intersected with the shard's range, ascending, at
/// most Limit entries. The client walks shards in key order to scan across boundaries.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ScanRequest")]
public sealed class ScanRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required long Epoch { get; init; }

    /// <summary>Inclusive start.</summary>
    [Id(2)] public required byte[] Start { get; init; }

    /// <summary>Exclusive end; empty = unbounded.</summary>
    [Id(3)] public required byte[] End { get; init; }

    [Id(4)] public required int Limit { get; init; }

    [Id(5)] public ReadConsistency Consistency { get; init; }

    [Id(6)] public TimeSpan MaxStaleness { get; init; }
}
