using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>
/// A split proposed to a shard's leader (docs/replica.md, "Split"): the shard keeps [start, <see cref="SplitKey"/>) and
/// <see cref="NewShard"/> takes the rest, with <see cref="NewPeers"/> (one per store of the shard). Refused with
/// WrongShard unless the shard is at <see cref="ExpectedEpoch"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.SplitShardRequest")]
public sealed class SplitShardRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required long ExpectedEpoch { get; init; }

    [Id(2)] public required byte[] SplitKey { get; init; }

    [Id(3)] public required ShardId NewShard { get; init; }

    [Id(4)] public required PeerDescriptor[] NewPeers { get; init; }
}
