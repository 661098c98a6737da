using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Raft;

/// <summary>
/// Raft messages of many shards from one store to another, sent as one one-way call to the destination silo's
/// <see cref="IRaftTransportService"/>. <see cref="Payload"/> holds <see cref="Groups"/> groups, each the messages of
/// one shard's replica on <see cref="From"/> to its replica on <see cref="To"/> (docs/format-raft-wire.md, "Envelope"):
/// <code>
/// group = shard (8, little-endian) | count (4) | length (4) | batch (length bytes: count messages, the batch codec)
/// </code>
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.RaftEnvelope")]
public sealed class RaftEnvelope
{
    /// <summary>The envelope layout this build writes. A receiver refuses an envelope of a version it does not know.</summary>
    public const int CurrentVersion = 1;

    [Id(0)] public required int Version { get; init; }

    [Id(1)] public required StoreId From { get; init; }

    [Id(2)] public required StoreId To { get; init; }

    [Id(3)] public required int Groups { get; init; }

    [Id(4)] public required byte[] Payload { get; init; }

    /// <summary>
    /// The sender's disk is slow (its log syncs take too long; docs/replica.md, "Slow disks"): the receiver's replicas
    /// do not hand leadership to its replicas meanwhile. Every envelope carries it, beats included, so a change reaches
    /// every peer within a heartbeat interval. Absent (false) from builds before it; builds before it ignore it.
    /// </summary>
    [Id(5)] public bool SenderDiskSlow { get; init; }
}
