namespace NoKv.Benchmarks.Common;

/// <summary>
/// Latencies in a fixed log-linear histogram: 64 sub-buckets per power of two of nanoseconds, so any
/// percentile is within about 1.6% of the true value, in 20 KiB however many operations are recorded (a list
/// of every latency would add megabytes to the very memory figures the YCSB benchmark reports). The maximum is
/// kept exactly. One instance per thread; <see cref="Add(LatencyHistogram)"/> merges them.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int Exponents = 64 - SubBucketBits;

    private readonly long[] _counts = new long[(Exponents + 1) * SubBuckets];

    public long Count { get; private set; }

    public long MaxNanoseconds { get; private set; }

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0)
        {
            nanoseconds = 0;
        }

        _counts[Index(nanoseconds)]++;
        Count++;
        if (nanoseconds > MaxNanoseconds)
        {
            MaxNanoseconds = nanoseconds;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxNanoseconds = Math.Max(MaxNanoseconds, other.MaxNanoseconds);
    }

    /// <summary>The latency at quantile <paramref name="q"/> (0..1), in nanoseconds (the bucket's midpoint); 0 when empty.</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                (long low, long width) = Bounds(i);
                return Math.Min(low + width / 2.0, MaxNanoseconds);
            }
        }

        return MaxNanoseconds;
    }

    // Values below 64 ns get one bucket each. Above, with e = floor(log2 v) - 6, v >> e lies in [64, 128): bucket
    // (e + 1) * 64 + (v >> e) - 64 covers [(v >> e) << e, ((v >> e) + 1) << e).
    private static int Index(long v)
    {
        if (v < SubBuckets)
        {
            return (int)v;
        }

        int exponent = 63 - (int)long.LeadingZeroCount(v) - SubBucketBits;
        int sub = (int)(v >> exponent) - SubBuckets;
        return ((exponent + 1) * SubBuckets) + sub;
    }

    private static (long Low, long Width) Bounds(int index)
    {
        if (index < SubBuckets)
        {
            return (index, 1);
        }

        int exponent = (index / SubBuckets) - 1;
        int sub = index % SubBuckets;
        return ((long)(SubBuckets + sub) << exponent, 1L << exponent);
    }
}
