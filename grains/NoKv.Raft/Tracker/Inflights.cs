namespace NoKv.Raft.Tracker;

/// <summary>
/// The Append messages sent to one follower and not yet acknowledged, as a ring of their last
/// indexes (and byte sizes). Bounds the replication pipeline: when full, the leader stops sending
/// new entries to that follower until acknowledgements free slots.
/// </summary>
/// <remarks>Invariant: indexes in the ring are strictly increasing from <c>start</c>. Never grows after construction.</remarks>
internal sealed class Inflights
{
    private readonly ulong[] indexes;
    private readonly ulong[] sizes;
    private readonly ulong maxBytes;
    private int start;
    private int count;
    private ulong bytes;

    /// <param name="maxBytes">Full once the recorded sizes reach this (0 = by count only).</param>
    public Inflights(int capacity, ulong maxBytes = 0)
    {
        if (capacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Inflights capacity must be positive.");
        }

        indexes = new ulong[capacity];
        sizes = new ulong[capacity];
        this.maxBytes = maxBytes;
    }

    public int Count => count;

    public int Capacity => indexes.Length;

    public ulong Bytes => bytes;

    public bool Full => count == indexes.Length || (maxBytes > 0 && bytes >= maxBytes);

    /// <summary>Records a message whose last entry is <paramref name="lastIndex"/>. REQUIRES: !Full, lastIndex above every recorded index.</summary>
    public void Add(ulong lastIndex, ulong size)
    {
        if (Full)
        {
            throw new InvalidOperationException("Cannot add to a full inflights window.");
        }

        var slot = start + count;
        if (slot >= indexes.Length)
        {
            slot -= indexes.Length;
        }

        indexes[slot] = lastIndex;
        sizes[slot] = size;
        count++;
        bytes += size;
    }

    /// <summary>Frees every message whose last index is at or below <paramref name="to"/> (they are acknowledged).</summary>
    public void FreeLE(ulong to)
    {
        while (count > 0 && indexes[start] <= to)
        {
            bytes -= sizes[start];
            start++;
            if (start == indexes.Length)
            {
                start = 0;
            }

            count--;
        }

        if (count == 0)
        {
            start = 0;
        }
    }

    public void Reset()
    {
        start = 0;
        count = 0;
        bytes = 0;
    }
}
