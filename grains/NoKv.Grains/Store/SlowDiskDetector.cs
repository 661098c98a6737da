namespace NoKv.Grains.Store;

/// <summary>
/// Decides from the engine's log-sync latency whether this store's disk is slow, so that its replicas hand their
/// leadership to peers on healthy disks and nobody hands them leadership back meanwhile (docs/replica.md, "Slow disks";
/// TiKV's slow-store leader eviction is the model). Fed every poll with the slowest sync completed since the previous
/// poll and the age of the sync in flight.
/// <para>Slow: <see cref="SlowSyncCount"/> polls within <see cref="Window"/> each saw a sync at or above
/// <see cref="Threshold"/>, or one sync has run for <see cref="SlowSyncCount"/> thresholds (a disk that hangs needs no
/// second sync to be seen). One slow sync alone is not enough: a loaded machine has the odd long fsync, and a leader
/// transfer costs a pause of its own. Fast again: no slow sync (and none in flight) for <see cref="Recovery"/>, longer
/// than the window on purpose, so a disk that is slow in bursts does not pull leadership back and forth.</para>
/// <para>Pure and clock-free (the caller passes the time); not thread-safe (one poller).</para>
/// </summary>
public sealed class SlowDiskDetector
{
    private readonly Queue<long> _slowAt = new();
    private long _lastSlowAt = long.MinValue;

    public SlowDiskDetector(TimeSpan threshold, int slowSyncCount, TimeSpan window, TimeSpan recovery)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(threshold, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(slowSyncCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(recovery, TimeSpan.Zero);
        Threshold = threshold;
        SlowSyncCount = slowSyncCount;
        Window = window;
        Recovery = recovery;
    }

    public TimeSpan Threshold { get; }

    public int SlowSyncCount { get; }

    public TimeSpan Window { get; }

    public TimeSpan Recovery { get; }

    /// <summary>The verdict as of the last <see cref="Observe"/>.</summary>
    public bool IsSlow { get; private set; }

    /// <summary>The slowest sync (completed or in flight) among the slow ones that count now, for the log line.</summary>
    public TimeSpan SlowestSeen { get; private set; }

    /// <summary>
    /// One poll at <paramref name="nowMs"/> (monotonic milliseconds). Returns true when the verdict changed.
    /// </summary>
    /// <param name="slowestCompleted">The slowest sync completed since the previous poll (zero if none).</param>
    /// <param name="inFlight">How long the sync in flight has run (zero if none).</param>
    public bool Observe(long nowMs, TimeSpan slowestCompleted, TimeSpan inFlight)
    {
        bool slowSync = slowestCompleted >= Threshold;
        if (slowSync)
        {
            _slowAt.Enqueue(nowMs);
            _lastSlowAt = nowMs;
            SlowestSeen = Max(SlowestSeen, slowestCompleted);
        }

        long windowMs = (long)Window.TotalMilliseconds;
        while (_slowAt.Count > 0 && nowMs - _slowAt.Peek() > windowMs)
        {
            _slowAt.Dequeue();
        }

        bool stuck = inFlight >= Threshold * SlowSyncCount;
        if (inFlight >= Threshold)
        {
            _lastSlowAt = nowMs;
        }

        if (!IsSlow)
        {
            // A sync in flight that is already slow counts as one more: with syncs of 300 ms, the second slow sync
            // is seen 200 ms into it instead of when it ends.
            int slowSyncs = _slowAt.Count + (inFlight >= Threshold ? 1 : 0);
            if (slowSyncs >= SlowSyncCount || stuck)
            {
                IsSlow = true;
                SlowestSeen = Max(SlowestSeen, inFlight);
                return true;
            }

            if (_slowAt.Count == 0)
            {
                SlowestSeen = TimeSpan.Zero;
            }

            return false;
        }

        if (nowMs - _lastSlowAt >= (long)Recovery.TotalMilliseconds)
        {
            IsSlow = false;
            SlowestSeen = TimeSpan.Zero;
            _slowAt.Clear();
            return true;
        }

        return false;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
