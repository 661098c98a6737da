using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// One replica's statistics in a store heartbeat. Rates are per second over the last heartbeat interval.
/// <see cref="LockFreePoint"/> (added with status collection; absent, so null, from older builds): the replica's last
/// finding as leader that no lock below it exists in the shard as of epoch <see cref="LockFreeEpoch"/>, nor can appear
/// (docs/transactions.md, "GC"); the controller's status-collection point is the minimum over every shard at its
/// current epoch.
/// </summary>
/// <param name="LoadSplitKey">From a leader: the key that halves the requests it served over the interval (the median
/// of a sample of them), where a split by load should cut; null when it served too few or is not the leader; empty when
/// no cut would leave a fifth of them on each side (the load is on one key, which no split helps).</param>
[GenerateSerializer, Immutable, Alias("nokv.ShardStats")]
public sealed record ShardStats(
    [property: Id(0)] ShardId Shard,
    [property: Id(1)] bool IsLeader,
    [property: Id(2)] long Epoch,
    [property: Id(3)] long ConfVersion,
    [property: Id(4)] long AppliedIndex,
    [property: Id(5)] double WritesPerSecond,
    [property: Id(6)] double ReadsPerSecond,
    [property: Id(7)] long? ApproximateBytes,
    [property: Id(8)] long? ApproximateKeys,
    [property: Id(9)] long? LockFreePoint = null,
    [property: Id(10)] long LockFreeEpoch = 0,
    [property: Id(11)] byte[]? LoadSplitKey = null);
