namespace NoKv.Replica.Diagnostics;

/// <summary>Something an operator would want to see in a timeline: a leader elected, a snapshot installed, a replica failing.</summary>
/// <param name="UnixMs">Wall-clock time, Unix milliseconds.</param>
/// <param name="Shard">The shard's id.</param>
/// <param name="Kind">Short, stable kind ("leader_elected", "election_started", "stepped_down", "snapshot_installed", "snapshot_sent", "membership_changed", "apply_halted", "replica_failed").</param>
/// <param name="Detail">Human-readable detail (term, peer, descriptor).</param>
public sealed record ReplicaEvent(long UnixMs, long Shard, string Kind, string Detail);
