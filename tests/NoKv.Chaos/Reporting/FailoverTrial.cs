namespace NoKv.Chaos.Reporting;

/// <summary>
/// One failover trial: a silo that led some shards was killed or paused at a known instant.
/// <see cref="RecoveryMs"/>: for each shard it led, the time from the fault until the first operation invoked after the
/// fault completed on that shard (null if none did before the fault ended: censored at <see cref="HeldMs"/>).
/// <see cref="OtherShardsMinRatio"/>: the lowest, over the other shards and every whole second of the fault, of that
/// second's completions divided by the shard's rate in the 3 s before the fault.
/// </summary>
public sealed record FailoverTrial(string Kind, int Store, List<long> LedShards, List<double?> RecoveryMs, double OtherShardsMinRatio, double HeldMs)
{
    /// <summary>Which shard had the lowest second and which second of the fault it was (1 = the first), for reading the silo logs.</summary>
    public string LowestSecond { get; init; } = "none";
}
