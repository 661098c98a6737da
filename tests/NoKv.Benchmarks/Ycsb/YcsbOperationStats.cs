using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>Count and latency percentiles of one operation type in one run, in microseconds.</summary>
public sealed class YcsbOperationStats
{
    public long Count { get; init; }

    public double P50Us { get; init; }

    public double P99Us { get; init; }

    public double P999Us { get; init; }

    public double MaxUs { get; init; }

    public static YcsbOperationStats From(LatencyHistogram histogram) => new()
    {
        Count = histogram.Count,
        P50Us = Math.Round(histogram.Quantile(0.50) / 1000, 1),
        P99Us = Math.Round(histogram.Quantile(0.99) / 1000, 1),
        P999Us = Math.Round(histogram.Quantile(0.999) / 1000, 1),
        MaxUs = Math.Round(histogram.MaxNanoseconds / 1000.0, 1),
    };
}
