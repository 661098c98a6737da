using System.Globalization;

namespace NoKv.Benchmarks.Common;

/// <summary>Human-readable formatting of counts and byte sizes for the printed tables.</summary>
public static class Units
{
    public static string Bytes(long bytes)
    {
        if (bytes < 0)
        {
            return "n/a";
        }
        string[] suffixes = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var index = 0;
        while (value >= 1024 && index < suffixes.Length - 1)
        {
            value /= 1024;
            index++;
        }
        return index == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : value.ToString(value >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture) + " " + suffixes[index];
    }

    public static string Rate(double opsPerSecond) =>
        opsPerSecond.ToString("N0", CultureInfo.InvariantCulture);

    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ratio(double ratio) =>
        double.IsFinite(ratio) ? ratio.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-";
}
