namespace NoKv.Abstractions.Telemetry;

/// <summary>One second of a store's client traffic: rates and latency quantiles of the requests its replicas answered.</summary>
[GenerateSerializer, Immutable, Alias("nokv.LoadSample")]
public sealed class LoadSample
{
    /// <summary>End of the second, Unix milliseconds.</summary>
    [Id(0)] public long UnixMs { get; init; }

    [Id(1)] public double WritesPerSecond { get; init; }

    [Id(2)] public double GetsPerSecond { get; init; }

    [Id(3)] public double ScansPerSecond { get; init; }

    [Id(4)] public double ErrorsPerSecond { get; init; }

    /// <summary>Write latency quantiles in milliseconds (0 when there were no writes).</summary>
    [Id(5)] public double WriteP50Ms { get; init; }

    [Id(6)] public double WriteP99Ms { get; init; }

    /// <summary>Get latency quantiles in milliseconds (0 when there were no gets).</summary>
    [Id(7)] public double GetP50Ms { get; init; }

    [Id(8)] public double GetP99Ms { get; init; }
}
