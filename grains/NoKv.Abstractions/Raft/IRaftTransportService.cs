using Orleans.Concurrency;
using Orleans.Services;

namespace NoKv.Abstractions.Raft;

/// <summary>
/// A silo's inbox for Raft traffic from other silos: one instance per silo (a grain service, addressed through
/// <see cref="RaftTransportIds.At"/>), one call per flush carrying the messages of every shard bound for this store.
/// Replaces a grain call per shard per Ready: with many shards per store, traffic between two silos is batched
/// across shards (docs/replica.md, "Many shards per store").
/// </summary>
[Alias("nokv.IRaftTransportService")]
public interface IRaftTransportService : IGrainService
{
    /// <summary>Hands each group to the local replica of its shard. Fire-and-forget: Raft retransmits what is lost.</summary>
    [OneWay, Alias("Deliver")]
    Task DeliverAsync(RaftEnvelope envelope);
}
