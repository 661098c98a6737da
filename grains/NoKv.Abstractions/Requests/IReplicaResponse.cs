using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>The routing part every replica response carries, so a client can drive one retry loop for all calls.</summary>
public interface IReplicaResponse
{
    NoKvErrorCode Code { get; }

    StoreId? LeaderHint { get; }

    long CurrentEpoch { get; }

    string? Detail { get; }

    /// <summary>
    /// With WrongShard, from a replica whose shard split: its current descriptor followed, in key order, by the shards
    /// split off its end that it knows of, so a client can route at once instead of waiting for the controller's map
    /// (which records a split only after it applied). Advisory: a replica checks every request's epoch anyway.
    /// </summary>
    ShardDescriptor[]? CurrentShards => null;
}
