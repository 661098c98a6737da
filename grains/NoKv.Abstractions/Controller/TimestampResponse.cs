using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// A controller replica's answer to a timestamp request: the batch (with <see cref="NoKvErrorCode.Ok"/>), or why
/// it cannot serve one (not the leader, or not yet holding a lease; follow <see cref="LeaderHint"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.TimestampResponse")]
public sealed class TimestampResponse : IReplicaResponse
{
    [Id(0)] public required NoKvErrorCode Code { get; init; }

    [Id(1)] public TimestampBatch Batch { get; init; }

    [Id(2)] public StoreId? LeaderHint { get; init; }

    [Id(3)] public long CurrentEpoch { get; init; }

    [Id(4)] public string? Detail { get; init; }
}
