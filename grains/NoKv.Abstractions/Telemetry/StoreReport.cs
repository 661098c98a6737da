using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Telemetry;

/// <summary>One store's report (<see cref="IStoreStatusService"/>), as of <see cref="UnixMs"/>.</summary>
[GenerateSerializer, Immutable, Alias("nokv.StoreReport")]
public sealed class StoreReport
{
    [Id(0)] public required StoreId Store { get; init; }

    /// <summary>The silo's Orleans address.</summary>
    [Id(1)] public required string Silo { get; init; }

    [Id(2)] public required long UnixMs { get; init; }

    /// <summary>When the silo process started, Unix milliseconds.</summary>
    [Id(3)] public long StartedUnixMs { get; init; }

    [Id(4)] public long WorkingSetBytes { get; init; }

    [Id(5)] public required EngineReport Engine { get; init; }

    [Id(6)] public HostedReplicaReport[] Replicas { get; init; } = [];

    /// <summary>One sample a second, oldest first, covering the last few minutes.</summary>
    [Id(7)] public LoadSample[] Samples { get; init; } = [];

    [Id(8)] public StoreEventReport[] Events { get; init; } = [];

    /// <summary>Requests answered since the silo started: writes, gets, scans.</summary>
    [Id(9)] public long[] RequestTotals { get; init; } = [];

    /// <summary>Failed requests since the silo started: writes, gets, scans.</summary>
    [Id(10)] public long[] ErrorTotals { get; init; } = [];

    /// <summary>The keys this store's leaders served most in the last complete window (about 10 s), hottest first.</summary>
    [Id(11)] public HotKeyReport[] HotKeys { get; init; } = [];
}
