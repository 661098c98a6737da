using System.Collections.Concurrent;
using System.Diagnostics;

namespace NoKv.Silo.Logging;

/// <summary>
/// Remembers which expected-failure log events (category and event id) were already written in the current
/// window, so each is written once per window and its repeats are only counted. A window ends when cluster
/// membership changes (a peer declared dead or back, <see cref="PeerStatusReporter"/>) or after
/// <see cref="MaxWindow"/>, whichever comes first; its counts are then reported once. Thread-safe.
/// </summary>
public sealed class RepeatSuppressor
{
    /// <summary>Longest a repeat stays unreported, so a condition that never resolves is still seen now and then.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromMinutes(5);

    private readonly Func<TimeSpan> _clock;
    private ConcurrentDictionary<(string Category, int EventId), int> _seen = new();
    private long _windowStartTicks;

    public RepeatSuppressor()
        : this(() => Stopwatch.GetElapsedTime(0))
    {
    }

    /// <summary>For tests: <paramref name="clock"/> returns monotonic elapsed time.</summary>
    public RepeatSuppressor(Func<TimeSpan> clock)
    {
        _clock = clock;
        _windowStartTicks = clock().Ticks;
    }

    /// <summary>
    /// Records one occurrence; true if it is the first of its kind in the window (write it), false if a repeat
    /// (count it). A window older than <see cref="MaxWindow"/> is closed first and its summary handed to
    /// <paramref name="expired"/>.
    /// </summary>
    public bool FirstInWindow(string category, int eventId, Action<string>? expired = null)
    {
        if (_clock().Ticks - Interlocked.Read(ref _windowStartTicks) > MaxWindow.Ticks && EndWindow() is { } summary)
        {
            expired?.Invoke(summary);
        }

        int count = _seen.AddOrUpdate((category, eventId), 1, (_, n) => n + 1);
        return count == 1;
    }

    /// <summary>Starts a new window; returns a one-line summary of what was not written in the old one, or null.</summary>
    public string? EndWindow()
    {
        var old = Interlocked.Exchange(ref _seen, new ConcurrentDictionary<(string Category, int EventId), int>());
        Interlocked.Exchange(ref _windowStartTicks, _clock().Ticks);
        var repeats = old.Where(e => e.Value > 1).OrderByDescending(e => e.Value).Select(e => $"{e.Value - 1} x {e.Key.Category}[{e.Key.EventId}]").ToList();
        return repeats.Count == 0 ? null : string.Join(", ", repeats);
    }
}
