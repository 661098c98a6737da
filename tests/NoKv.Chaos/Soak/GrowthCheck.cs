namespace NoKv.Chaos.Soak;

/// <summary>
/// Whether anything of a soak grew without bound: each series (every silo's RSS, every store's disk use, the p99
/// latency) is compared between the middle third of the minutes and the last third (the first third is warm-up:
/// caches filling, the first compactions). Medians, not means, so one minute spent restarting a killed silo (little
/// RSS) or inside a fault (a long p99) does not decide. A series is flagged when its last-third median exceeds the
/// middle-third median by more than the threshold percentage AND by more than a floor in its own unit (a few MiB
/// or milliseconds of noise are no trend). Throughput is flagged when it falls by more than the threshold.
/// Memory is judged by its anonymous part (RssAnon) when the samples carry it: the rest of a silo's RSS is file-backed
/// pages (the runtime's and the application's mapped files, and mapped table files, which the kernel reclaims under
/// pressure) and shared memory (the runtime maps its jitted code twice through a memfd, W^X), neither of which is what a
/// leak would hold. The whole RSS is still reported, unjudged.
/// </summary>
public static class GrowthCheck
{
    /// <summary>Differences smaller than these are noise whatever the percentage.</summary>
    public const double RssFloorMiB = 32, DiskFloorMiB = 16, LatencyFloorMs = 20;

    /// <param name="Judged">False for a series reported for information only (a silo's whole RSS when its anonymous part is judged).</param>
    public sealed record Finding(string Series, double Middle, double Last, string Unit, bool Flagged, bool Judged = true)
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
        bool anonKnown = HasAnon(minutes);
        for (int s = 0; s < stores; s++)
        {
            int store = s;
            var rss = Grow($"store {store + 1} RSS", Median(middle, m => At(m.RssMiB, store)), Median(last, m => At(m.RssMiB, store)), "MiB", RssFloorMiB, thresholdPercent);
            findings.Add(anonKnown ? rss with { Flagged = false, Judged = false } : rss);
            if (anonKnown)
            {
                findings.Add(Grow($"store {store + 1} anon", Median(middle, m => At(m.AnonMiB!, store)), Median(last, m => At(m.AnonMiB!, store)), "MiB", RssFloorMiB, thresholdPercent));
            }
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

    /// <summary>
    /// The memory trend of one silo process that lived through most of the soak: a least-squares line through its minutes
    /// after its own warm-up (the first third of the minutes it lived), in MiB per minute, and what that line adds over
    /// those minutes. <see cref="Series"/> is what was judged: "anon" (RssAnon) when every fitted minute carries it,
    /// else "RSS"; <see cref="RssMiBPerMinute"/> is the whole RSS's line over the same minutes, for comparison.
    /// </summary>
    public sealed record Slope(int Store, int Pid, int LivedFrom, int LivedTo, int FitFrom, double MiBPerMinute, double GrowthMiB, bool Flagged,
        string Series = "RSS", double RssMiBPerMinute = 0);

    /// <summary>
    /// Per-process RSS slopes. The thirds' medians compare two windows and miss a climb that is steady over the whole
    /// run, and they mix a silo's processes (a restart resets its RSS): in the 45-minute soak store 2, never killed, went
    /// 169 -> 452 MiB and the medians said +7 %. So for every silo whose one process (same pid) was sampled in at least
    /// half of the minutes (and at least <see cref="MinSlopeMinutes"/>), a line is fitted through that process's minutes
    /// after the first third of them; it is flagged when it climbs faster than <paramref name="maxMiBPerMinute"/> and
    /// adds more than <see cref="RssFloorMiB"/> over the fitted minutes (a bounded process levels off: its line goes flat;
    /// GC sawtooth is averaged away by the fit, and the floor keeps a short noisy fit from flagging). Processes that did
    /// not live that long are not judged here (the thirds' medians still cover their series).
    /// </summary>
    public static List<Slope> RssSlopes(IReadOnlyList<SoakSample> minutes, double maxMiBPerMinute)
    {
        var slopes = new List<Slope>();
        if (minutes.Count < MinSlopeMinutes || minutes.Any(m => m.Pids is null))
        {
            return slopes;
        }

        int stores = minutes.Max(m => m.RssMiB.Length);
        for (int store = 0; store < stores; store++)
        {
            // The longest run of consecutive minutes sampled from one process.
            int bestFrom = 0, bestLength = 0;
            for (int i = 0; i < minutes.Count;)
            {
                int pid = PidAt(minutes[i], store);
                int j = i + 1;
                while (pid > 0 && j < minutes.Count && PidAt(minutes[j], store) == pid)
                {
                    j++;
                }

                if (pid > 0 && j - i > bestLength)
                {
                    bestFrom = i;
                    bestLength = j - i;
                }

                i = j;
            }

            if (bestLength < Math.Max(MinSlopeMinutes, (minutes.Count + 1) / 2))
            {
                continue;
            }

            int skip = bestLength / 3;
            var fitted = minutes.Skip(bestFrom + skip).Take(bestLength - skip).ToList();
            double[] x = fitted.Select(m => (double)m.Minute).ToArray();
            double rssSlope = LeastSquaresSlope(x, fitted.Select(m => m.RssMiB[store]).ToArray());
            bool anon = fitted.All(m => !double.IsNaN(At(m.AnonMiB ?? [], store)));
            double slope = anon ? LeastSquaresSlope(x, fitted.Select(m => m.AnonMiB![store]).ToArray()) : rssSlope;
            double growth = slope * (fitted[^1].Minute - fitted[0].Minute);
            slopes.Add(new Slope(store + 1, PidAt(minutes[bestFrom], store), minutes[bestFrom].Minute, minutes[bestFrom + bestLength - 1].Minute, fitted[0].Minute,
                slope, growth, slope > maxMiBPerMinute && growth > RssFloorMiB, anon ? "anon" : "RSS", rssSlope));
        }

        return slopes;
    }

    /// <summary>Whether the minutes carry anonymous memory (all of them do, from this harness; none do in older reports).</summary>
    private static bool HasAnon(IReadOnlyList<SoakSample> minutes) => minutes.All(m => m.AnonMiB is not null);

    /// <summary>Fewest minutes of one process for its RSS slope to be judged.</summary>
    public const int MinSlopeMinutes = 6;

    /// <summary>The process sampled for a store at a minute, or -1 (not running, or its RSS could not be read).</summary>
    private static int PidAt(SoakSample sample, int store) =>
        sample.Pids is { } pids && store < pids.Length && !double.IsNaN(At(sample.RssMiB, store)) ? pids[store] : -1;

    private static double LeastSquaresSlope(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), num = 0, den = 0;
        for (int i = 0; i < x.Length; i++)
        {
            num += (x[i] - mx) * (y[i] - my);
            den += (x[i] - mx) * (x[i] - mx);
        }

        return den == 0 ? 0 : num / den;
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
