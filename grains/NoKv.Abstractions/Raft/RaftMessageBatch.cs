using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Raft;

/// <summary>
/// Raft messages from one replica to another of the same group, sent as one one-way grain call.
/// <see cref="Payload"/> holds <see cref="Count"/> encoded messages in the grain layer's versioned Raft wire
/// format (NoKv.Grains' RaftMessageCodec; byte by byte in docs/format-raft-wire.md); Abstractions stays free
/// of the Raft library so the client does not depend on it. The sender never waits for delivery: Raft tolerates loss and retransmits.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.RaftMessageBatch")]
public sealed class RaftMessageBatch
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required StoreId From { get; init; }

    [Id(2)] public required StoreId To { get; init; }

    [Id(3)] public required int Count { get; init; }

    [Id(4)] public required byte[] Payload { get; init; }
}
