namespace NoKv.Storage.Cache;

/// <summary>
/// A statistics counter that many threads bump without fighting over one cache line: each thread adds to
/// one of several padded slots chosen by its id, and a read sums them. Thread-safe; reads are not a
/// snapshot (fine for monotonic statistics).
/// </summary>
internal sealed class StripedCounter
{
    private const int Stripes = 16;

    // One slot per 64-byte line (8 longs), so stripes never share a cache line.
    private const int Stride = 8;

    private readonly long[] _slots = new long[Stripes * Stride];

    public void Increment()
    {
        int stripe = Environment.CurrentManagedThreadId & (Stripes - 1);
        Interlocked.Increment(ref _slots[stripe * Stride]);
    }

    public long Sum()
    {
        long total = 0;
        for (int i = 0; i < Stripes; i++)
        {
            total += Volatile.Read(ref _slots[i * Stride]);
        }

        return total;
    }
}
