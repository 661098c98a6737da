using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>An operation in progress, as committed in the controller.</summary>
[GenerateSerializer, Immutable, Alias("nokv.OperationView")]
public sealed record OperationView(
    [property: Id(0)] long Id,
    [property: Id(1)] OperationKind Kind,
    [property: Id(2)] ShardId Shard,
    [property: Id(3)] int Step,
    [property: Id(4)] StoreId? From,
    [property: Id(5)] StoreId? To,
    [property: Id(6)] long CreatedUnixMs,
    [property: Id(7)] long StepSinceUnixMs,
    [property: Id(8)] string? Waiting = null);
