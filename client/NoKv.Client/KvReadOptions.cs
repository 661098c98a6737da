using NoKv.Abstractions.Requests;

namespace NoKv.Client;

/// <summary>Per-read options. The default is a linearizable read from the shard leader.</summary>
public sealed class KvReadOptions
{
    public static KvReadOptions Linearizable { get; } = new();

    public ReadConsistency Consistency { get; init; } = ReadConsistency.Linearizable;

    /// <summary>With <see cref="ReadConsistency.BoundedStaleness"/>: the largest acceptable lag behind the leader.</summary>
    public TimeSpan MaxStaleness { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A follower (or leader) read that may lag by at most <paramref name="maxStaleness"/>.</summary>
    public static KvReadOptions Stale(TimeSpan maxStaleness) => new() { Consistency = ReadConsistency.BoundedStaleness, MaxStaleness = maxStaleness };
}
