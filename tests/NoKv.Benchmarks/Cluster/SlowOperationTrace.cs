using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// With <c>NOKV_BENCH_SLOW_MS=N</c>: listens to the client SDK's operation spans and, when the run ends, prints to
/// stderr the first 40 operations slower than N ms with their retries (reason, store, detail, milliseconds into the
/// operation): where a slow second's time went, without a tracing backend.
/// </summary>
public sealed class SlowOperationTrace : IDisposable
{
    private const int MaxPrinted = 40;

    private readonly ActivityListener _listener;
    private readonly TimeSpan _threshold;
    private readonly Stopwatch _clock;
    private readonly List<string> _slow = new();

    private SlowOperationTrace(TimeSpan threshold, Stopwatch clock)
    {
        _threshold = threshold;
        _clock = clock;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "NoKv.Client",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>A trace when the variable is set, else null. <paramref name="clock"/> gives the "at" of each line.</summary>
    public static SlowOperationTrace? FromEnvironment(Stopwatch clock) =>
        int.TryParse(Environment.GetEnvironmentVariable("NOKV_BENCH_SLOW_MS"), NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms > 0
            ? new SlowOperationTrace(TimeSpan.FromMilliseconds(ms), clock)
            : null;

    public void Dispose()
    {
        _listener.Dispose();
        lock (_slow)
        {
            foreach (var line in _slow)
            {
                Console.Error.WriteLine(line);
            }
        }
    }

    private void Stopped(Activity activity)
    {
        if (activity.Duration < _threshold || activity.Parent is not null)
        {
            return;
        }

        double endedAt = _clock.Elapsed.TotalSeconds;
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"[slow] {activity.OperationName} at {endedAt - activity.Duration.TotalSeconds:F3} s took {activity.Duration.TotalMilliseconds:F0} ms, attempts {activity.GetTagItem("nokv.attempts")}, {activity.GetTagItem("nokv.result")}:");
        foreach (var e in activity.Events)
        {
            line.Append(CultureInfo.InvariantCulture, $" | +{(e.Timestamp - activity.StartTimeUtc).TotalMilliseconds:F0} ms {e.Name}");
            foreach (var tag in e.Tags)
            {
                line.Append(CultureInfo.InvariantCulture, $" {tag.Key}={tag.Value}");
            }
        }

        lock (_slow)
        {
            if (_slow.Count < MaxPrinted)
            {
                _slow.Add(line.ToString());
            }
        }
    }
}
