namespace NoKv.Abstractions.Telemetry;

/// <summary>A key one store's leaders served often in the last window (<see cref="StoreReport.HotKeys"/>).</summary>
[GenerateSerializer, Immutable, Alias("nokv.HotKeyReport")]
public sealed class HotKeyReport
{
    [Id(0)] public long Shard { get; init; }

    [Id(1)] public byte[] Key { get; init; } = [];

    /// <summary>Requests per second that certainly were for this key (a lower bound: the tracker's overcount is taken off).</summary>
    [Id(2)] public double RequestsPerSecond { get; init; }
}
