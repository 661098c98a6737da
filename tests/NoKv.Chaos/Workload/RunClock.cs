using System.Diagnostics;

namespace NoKv.Chaos.Workload;

/// <summary>The monotonic clock every history time and fault time of a run is read from (ticks of <see cref="Stopwatch"/>).</summary>
public sealed class RunClock
{
    private readonly long _origin = Stopwatch.GetTimestamp();

    /// <summary>Ticks since the run started.</summary>
    public long Now => Stopwatch.GetTimestamp() - _origin;

    public static double ToMilliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static long FromMilliseconds(double milliseconds) => (long)(milliseconds * Stopwatch.Frequency / 1000.0);
}
