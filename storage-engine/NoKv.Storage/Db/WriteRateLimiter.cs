using System.Diagnostics;

namespace NoKv.Storage.Db;

/// <summary>
/// Bounds the rate at which background work (flush and compaction output) writes table bytes, so that a flush
/// or a compaction reaches the device as a steady trickle rather than a burst that every foreground WAL sync
/// must queue behind. A token bucket: tokens accrue at the configured rate up to one tenth of a second's worth
/// (at least 1 MiB); a caller takes what it wrote and, when that leaves the bucket in debt, sleeps until the
/// debt would be repaid. Thread-safe: the flush and compaction threads share one limiter per database, so their
/// sum is bounded. Only background threads call it; a write never waits on it.
/// <para>
/// Pacing is a courtesy to foreground writes, so it stops when it would hurt them: while <c>behind</c> says
/// background work is late (the database passes "level 0 past a quarter of the way from its compaction trigger to
/// its slowdown trigger, or every immutable memtable slot taken"), bytes pass unpaced and do not count against the
/// bucket. A bound below ingest rate times write amplification otherwise turns a sustained load into write stalls:
/// the silo's 32 MiB/s bound stalled a 2 GiB load of 16 KiB values for 222 s of 230 s (bulkload benchmark).
/// </para>
/// </summary>
internal sealed class WriteRateLimiter
{
    private readonly Lock _lock = new();
    private readonly double _bytesPerTick;
    private readonly double _burst;
    private double _available;
    private long _lastRefill;
    private long _waitedTicks;
    private long _unpacedBytes;
    private readonly Func<bool>? _behind;

    /// <param name="bytesPerSecond">Positive rate.</param>
    /// <param name="behind">
    /// Whether background work is late (null = never): while it returns true, <see cref="Acquire"/> neither waits nor
    /// charges the bucket. Called on every <see cref="Acquire"/>, from the background threads; it must be cheap and
    /// must not take a lock those threads' callers may hold.
    /// </param>
    public WriteRateLimiter(long bytesPerSecond, Func<bool>? behind = null)
    {
        _behind = behind;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        BytesPerSecond = bytesPerSecond;
        _bytesPerTick = (double)bytesPerSecond / Stopwatch.Frequency;
        _burst = Math.Max(1 << 20, bytesPerSecond / 10.0);
        _available = _burst;
        _lastRefill = Stopwatch.GetTimestamp();
    }

    public long BytesPerSecond { get; }

    /// <summary>Total time callers have slept in <see cref="Acquire"/>.</summary>
    public TimeSpan Waited => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _waitedTicks));

    /// <summary>Bytes that passed unpaced because background work was behind.</summary>
    public long UnpacedBytes => Volatile.Read(ref _unpacedBytes);

    /// <summary>
    /// Accounts for <paramref name="bytes"/> just written and sleeps as long as needed to keep the average rate
    /// (the bytes are written already: pacing applies to what the caller writes next).
    /// </summary>
    public void Acquire(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        if (_behind is not null && _behind())
        {
            Interlocked.Add(ref _unpacedBytes, bytes);
            return;
        }

        double debt;
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            _available = Math.Min(_burst, _available + ((now - _lastRefill) * _bytesPerTick));
            _lastRefill = now;
            _available -= bytes;
            debt = -_available;
        }

        if (debt > 0)
        {
            long start = Stopwatch.GetTimestamp();
            Thread.Sleep(TimeSpan.FromSeconds(debt / BytesPerSecond));
            Interlocked.Add(ref _waitedTicks, Stopwatch.GetTimestamp() - start);
        }
    }
}
