using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NoKv.Chaos.Diagnostics;

/// <summary>
/// Writes every slow or retried SDK operation of this process (the client's <c>NoKv.Client</c> spans) to a file: when it
/// started (UTC, to line up with the silo logs), how long it took, its result and each retry with its reason and store.
/// For finding out where a failover's time goes (<c>--trace-client</c>); off, nothing listens and the client records no
/// spans. Thread-safe.
/// </summary>
public sealed class ClientTrace : IDisposable
{
    private static readonly TimeSpan Slow = TimeSpan.FromMilliseconds(300);

    private readonly ActivityListener _listener;
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    public ClientTrace(string path)
    {
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "NoKv.Client",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Record,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_lock)
        {
            _writer.Dispose();
        }
    }

    private void Record(Activity activity)
    {
        bool retried = activity.Events.Any();
        if (!retried && activity.Duration < Slow)
        {
            return;
        }

        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{activity.StartTimeUtc:yyyy-MM-ddTHH:mm:ss.fffZ} {activity.OperationName} {activity.Duration.TotalMilliseconds:F0} ms");
        line.Append(CultureInfo.InvariantCulture, $" result {activity.GetTagItem("nokv.result")} attempts {activity.GetTagItem("nokv.attempts")}");
        foreach (var e in activity.Events)
        {
            var offset = e.Timestamp.UtcDateTime - activity.StartTimeUtc;
            string? reason = null;
            object? store = null;
            string? detail = null;
            foreach (var tag in e.Tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
                else if (tag.Key == "store")
                {
                    store = tag.Value;
                }
                else if (tag.Key == "detail")
                {
                    detail = tag.Value as string;
                }
            }

            line.Append(CultureInfo.InvariantCulture, $" | +{offset.TotalMilliseconds:F0} {e.Name} {reason} store {store}: {detail}");
        }

        lock (_lock)
        {
            _writer.WriteLine(line.ToString());
        }
    }
}
