namespace NoKv.Abstractions.Controller;

/// <summary>The controller's balancer as operators see it: its switches and thresholds, and its latest decisions (newest last).</summary>
[GenerateSerializer, Immutable, Alias("nokv.BalancerView")]
public sealed record BalancerView(
    [property: Id(0)] bool LeaderBalance,
    [property: Id(1)] bool ReplicaBalance,
    [property: Id(2)] bool AutoSplit,
    [property: Id(3)] long SplitBytes,
    [property: Id(4)] double SplitRequestsPerSecond,
    [property: Id(5)] string[] RecentDecisions);
