namespace NoKv.Abstractions.Telemetry;

/// <summary>An event of one of a store's replicas (leader elected, snapshot installed, ...).</summary>
[GenerateSerializer, Immutable, Alias("nokv.StoreEventReport")]
public sealed class StoreEventReport
{
    [Id(0)] public long UnixMs { get; init; }

    [Id(1)] public long Shard { get; init; }

    [Id(2)] public required string Kind { get; init; }

    [Id(3)] public required string Detail { get; init; }
}
