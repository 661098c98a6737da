using System.Diagnostics;
using System.Globalization;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Where a committed transfer's time goes (begin = start timestamp, reads, commit), as means over the committed
/// attempts of one point, so a slow point can be traced to a protocol phase. Thread-safe.
/// </summary>
public sealed class TxnPhaseTimes
{
    private long _count;
    private long _begin;
    private long _reads;
    private long _commit;

    public void Reset()
    {
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _begin, 0);
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _commit, 0);
    }

    /// <summary>One committed attempt's phases, in <see cref="Stopwatch"/> ticks.</summary>
    public void Record(long begin, long reads, long commit)
    {
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _begin, begin);
        Interlocked.Add(ref _reads, reads);
        Interlocked.Add(ref _commit, commit);
    }

    public override string ToString()
    {
        long n = Math.Max(1, Interlocked.Read(ref _count));
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / n;
        return string.Create(CultureInfo.InvariantCulture,
            $"committed attempts' mean phases: begin {Ms(Interlocked.Read(ref _begin)):F2} ms, reads {Ms(Interlocked.Read(ref _reads)):F2} ms, commit {Ms(Interlocked.Read(ref _commit)):F2} ms");
    }
}
