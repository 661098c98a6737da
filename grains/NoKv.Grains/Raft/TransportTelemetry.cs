using System.Diagnostics.Metrics;
using NoKv.Replica.Diagnostics;

namespace NoKv.Grains.Raft;

/// <summary>
/// The silo Raft transport's instruments, on the replica meter (<see cref="ReplicaTelemetry.Meter"/>, so the silo
/// exports them with the replicas' own): how many envelopes (one-way calls between silos) and groups (one shard's
/// messages to one peer) leave. Their ratio is how much batching across shards saves; per client write they say
/// what a write costs in transport calls (tests/NoKv.Benchmarks/README.md, "cluster --shards").
/// </summary>
internal static class TransportTelemetry
{
    /// <summary>Envelopes sent to other silos, store-level beats (empty envelopes) included.</summary>
    public static readonly Counter<long> Envelopes = ReplicaTelemetry.Meter.CreateCounter<long>("nokv.raft.transport.envelopes", "{envelope}", "Raft envelopes (one call per destination silo) sent");

    /// <summary>Groups sent inside envelopes.</summary>
    public static readonly Counter<long> Groups = ReplicaTelemetry.Meter.CreateCounter<long>("nokv.raft.transport.groups", "{group}", "Groups (one shard's messages to one peer) sent in Raft envelopes");
}
