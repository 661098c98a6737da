using System.Globalization;

namespace NoKv.Chaos.Reporting;

/// <summary>Nearest-rank percentiles of a sample (milliseconds), and their one-line rendering.</summary>
public static class Percentiles
{
    public static double At(IReadOnlyList<double> sample, double p)
    {
        if (sample.Count == 0)
        {
            return double.NaN;
        }

        var sorted = sample.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static string Summary(IReadOnlyList<double> sample) => sample.Count == 0
        ? "n=0"
        : string.Create(CultureInfo.InvariantCulture, $"n={sample.Count} p50 {At(sample, 50):F0} ms, p99 {At(sample, 99):F0} ms, max {sample.Max():F0} ms");
}
