using System.Numerics;

namespace NoKv.Replica.Diagnostics;

/// <summary>
/// A latency histogram in microseconds with eight buckets per power of two (at most 12.5% relative error), counted
/// with atomic increments: recording allocates nothing and takes no lock. Readers take a copy of the counts
/// (<see cref="CopyTo"/>) and compare it with an earlier copy to get the distribution of an interval.
/// Thread-safe.
/// </summary>
public sealed class LatencyBuckets
{
    /// <summary>Buckets: 0-7 hold exact values, then eight per power of two up to 2^63.</summary>
    public const int Count = 488;

    private readonly long[] _counts = new long[Count];

    public void Record(long micros) => Interlocked.Increment(ref _counts[Index(micros)]);

    /// <summary>Copies the counts into <paramref name="destination"/> (length <see cref="Count"/>).</summary>
    public void CopyTo(long[] destination)
    {
        for (int i = 0; i < Count; i++)
        {
            destination[i] = Volatile.Read(ref _counts[i]);
        }
    }

    public static int Index(long micros)
    {
        if (micros < 8)
        {
            return micros < 0 ? 0 : (int)micros;
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)micros);
        int sub = (int)((micros >> (exponent - 3)) & 7);
        return (exponent * 8) + sub - 16;
    }

    /// <summary>The smallest value that falls into bucket <paramref name="index"/>.</summary>
    public static long LowerBound(int index)
    {
        if (index < 8)
        {
            return index;
        }

        int exponent = (index + 16) / 8;
        int sub = (index + 16) % 8;
        return (8L + sub) << (exponent - 3);
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0-1) of the values counted between two copies (<paramref name="after"/> minus
    /// <paramref name="before"/>), as the middle of its bucket; 0 when nothing was counted.
    /// </summary>
    public static double Quantile(long[] before, long[] after, double quantile)
    {
        long total = 0;
        for (int i = 0; i < Count; i++)
        {
            total += after[i] - before[i];
        }

        if (total == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (int i = 0; i < Count; i++)
        {
            seen += after[i] - before[i];
            if (seen >= rank)
            {
                long low = LowerBound(i);
                long high = i + 1 < Count ? LowerBound(i + 1) : low;
                return (low + high) / 2.0;
            }
        }

        return LowerBound(Count - 1);
    }
}
