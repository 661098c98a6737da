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
}
