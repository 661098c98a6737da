namespace NoKv.Chaos.Soak;

/// <summary>
/// Whether anything of a soak grew without bound: each series (every silo's RSS, every store's disk use, the p99
/// latency) is compared between the middle third of the minutes and the last third (the first third is warm-up:
/// caches filling, the first compactions). Medians, not means, so one minute spent restarting a killed silo (little
/// RSS) or inside a fault (a long p99) does not decide. A series is flagged when its last-third median exceeds the
/// middle-third median by more than the threshold percentage AND by more than a floor in its own unit (a few MiB
/// or milliseconds of noise are no trend). Throughput is flagged when it falls by more than the threshold.
/// </summary>
public static class GrowthCheck
{
    /// <summary>Differences smaller than these are noise whatever the percentage.</summary>
    public const double RssFloorMiB = 32, DiskFloorMiB = 16, LatencyFloorMs = 20;

    public sealed record Finding(string Series, double Middle, double Last, string Unit, bool Flagged)
    {
        public double GrowthPercent => Middle <= 0 ? (Last > 0 ? double.PositiveInfinity : 0) : ((Last / Middle) - 1) * 100;
    }

    public static List<Finding> Analyze(IReadOnlyList<SoakSample> minutes, double thresholdPercent)
    {
        var findings = new List<Finding>();
        if (minutes.Count < 3)
        {
            return findings;
        }

        int third = minutes.Count / 3;
        var middle = minutes.Skip(third).Take(third).ToList();
        var last = minutes.Skip(minutes.Count - third).ToList();
        int stores = minutes.Max(m => m.RssMiB.Length);
        for (int s = 0; s < stores; s++)
        {
            int store = s;
            findings.Add(Grow($"store {store + 1} RSS", Median(middle, m => At(m.RssMiB, store)), Median(last, m => At(m.RssMiB, store)), "MiB", RssFloorMiB, thresholdPercent));
        }

        for (int s = 0; s < stores; s++)
        {
            int store = s;
            findings.Add(Grow($"store {store + 1} disk", Median(middle, m => At(m.DiskMiB, store)), Median(last, m => At(m.DiskMiB, store)), "MiB", DiskFloorMiB, thresholdPercent));
        }

        findings.Add(Grow("p99 latency", Median(middle, m => m.P99Ms), Median(last, m => m.P99Ms), "ms", LatencyFloorMs, thresholdPercent));
        double opsMiddle = Median(middle, m => m.Operations), opsLast = Median(last, m => m.Operations);
        findings.Add(new Finding("operations per minute", opsMiddle, opsLast, "", opsLast < opsMiddle * (1 - (thresholdPercent / 100))));
        return findings;
    }

    private static Finding Grow(string series, double middle, double last, string unit, double floor, double thresholdPercent) =>
        new(series, middle, last, unit, last - middle > floor && last > middle * (1 + (thresholdPercent / 100)));

    /// <summary>A store's figure, or NaN when its silo was down at the sample (left out of the median).</summary>
    private static double At(double[] values, int store) => store < values.Length && values[store] >= 0 ? values[store] : double.NaN;

    private static double Median(IEnumerable<SoakSample> samples, Func<SoakSample, double> value)
    {
        var sorted = samples.Select(value).Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
