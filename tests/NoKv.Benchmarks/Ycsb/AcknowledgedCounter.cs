namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// Hands out new record numbers for inserts and tracks the highest one below which every insert has
/// completed, so the "latest" distribution reads only records that exist (YCSB's acknowledged counter).
/// Thread-safe; inserts may complete out of order by at most the window.
/// </summary>
public sealed class AcknowledgedCounter
{
    private const int Window = 1 << 16;

    private readonly bool[] _done = new bool[Window];
    private readonly Lock _lock = new();
    private long _next;
    private long _limit;

    public AcknowledgedCounter(long start)
    {
        _next = start;
        _limit = start;
    }

    /// <summary>Every record below this exists.</summary>
    public long Limit => Interlocked.Read(ref _limit);

    /// <summary>Records handed out so far (the next record number).</summary>
    public long Issued => Interlocked.Read(ref _next);

    public long Next() => Interlocked.Increment(ref _next) - 1;

    public void Acknowledge(long record)
    {
        lock (_lock)
        {
            _done[record & (Window - 1)] = true;
            long limit = _limit;
            while (_done[limit & (Window - 1)])
            {
                _done[limit & (Window - 1)] = false;
                limit++;
            }

            Interlocked.Exchange(ref _limit, limit);
        }
    }
}
