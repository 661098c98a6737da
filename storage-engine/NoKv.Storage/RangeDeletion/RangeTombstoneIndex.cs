namespace NoKv.Storage.RangeDeletion;

/// <summary>
/// Immutable index over a set of range tombstones, answering "the newest tombstone visible at snapshot S
/// that covers key k" in O(log n) for reads at the present (or any snapshot newer than the covering tombstones).
/// </summary>
/// <remarks>
/// The tombstones are cut at every start and end key into non-overlapping fragments [bounds[i], bounds[i+1]),
/// and each fragment keeps only the largest sequence covering it: O(n) memory even for nested ranges (a Raft
/// log truncated again and again yields ranges [0, i1) c [0, i2) c ...). A read at an older snapshot, below
/// that maximum, falls back to scanning the tombstones. Built by a sweep with a max-heap, O(n log n).
/// Thread-safe (immutable).
/// </remarks>
internal sealed class RangeTombstoneIndex
{
    public static readonly RangeTombstoneIndex Empty = new([], [], []);

    private readonly byte[][] _bounds;
    private readonly ulong[] _maxSequence;

    private RangeTombstoneIndex(byte[][] bounds, ulong[] maxSequence, RangeTombstone[] tombstones)
    {
        _bounds = bounds;
        _maxSequence = maxSequence;
        Tombstones = tombstones;
    }

    /// <summary>The tombstones this index was built from.</summary>
    public RangeTombstone[] Tombstones { get; }

    public bool IsEmpty => Tombstones.Length == 0;

    public static RangeTombstoneIndex Build(IReadOnlyList<RangeTombstone> tombstones)
    {
        if (tombstones.Count == 0)
        {
            return Empty;
        }

        RangeTombstone[] all = [.. tombstones];
        byte[][] bounds = UniqueSortedBounds(all);
        var byStart = (RangeTombstone[])all.Clone();
        Array.Sort(byStart, static (a, b) => a.Start.AsSpan().SequenceCompareTo(b.Start));
        var maxSequence = new ulong[bounds.Length];
        var active = new PriorityQueue<RangeTombstone, ulong>(Comparer<ulong>.Create(static (a, b) => b.CompareTo(a)));
        int next = 0;
        for (int i = 0; i < bounds.Length; i++)
        {
            byte[] fragmentStart = bounds[i];
            while (next < byStart.Length && byStart[next].Start.AsSpan().SequenceCompareTo(fragmentStart) <= 0)
            {
                active.Enqueue(byStart[next], byStart[next].Sequence);
                next++;
            }

            // Lazy removal: only the top must still cover the fragment for its sequence to be the maximum.
            while (active.Count > 0 && active.Peek().End.AsSpan().SequenceCompareTo(fragmentStart) <= 0)
            {
                active.Dequeue();
            }

            maxSequence[i] = active.Count > 0 ? active.Peek().Sequence : 0;
        }

        return new RangeTombstoneIndex(bounds, maxSequence, all);
    }

    /// <summary>
    /// The largest sequence number &lt;= <paramref name="snapshot"/> of a tombstone covering
    /// <paramref name="userKey"/>, or 0 if none. A version with sequence s is deleted iff s &lt; the result.
    /// </summary>
    public ulong MaxCoveringSequence(ReadOnlySpan<byte> userKey, ulong snapshot)
    {
        int fragment = FragmentOf(userKey);
        if (fragment < 0)
        {
            return 0;
        }

        ulong max = _maxSequence[fragment];
        if (max <= snapshot)
        {
            return max;
        }

        // A read below the newest covering tombstone: rare (old snapshots), so scan.
        ulong best = 0;
        foreach (RangeTombstone t in Tombstones)
        {
            if (t.Sequence <= snapshot && t.Sequence > best && t.Contains(userKey))
            {
                best = t.Sequence;
            }
        }

        return best;
    }

    /// <summary>The smallest sequence above <paramref name="sequence"/> of a tombstone covering <paramref name="userKey"/>, or 0.</summary>
    public ulong MinCoveringAbove(ReadOnlySpan<byte> userKey, ulong sequence)
    {
        int fragment = FragmentOf(userKey);
        if (fragment < 0 || _maxSequence[fragment] <= sequence)
        {
            return 0;
        }

        ulong best = ulong.MaxValue;
        foreach (RangeTombstone t in Tombstones)
        {
            if (t.Sequence > sequence && t.Sequence < best && t.Contains(userKey))
            {
                best = t.Sequence;
            }
        }

        return best == ulong.MaxValue ? 0 : best;
    }

    /// <summary>Sorted, de-duplicated start and end keys of <paramref name="tombstones"/>.</summary>
    public static byte[][] UniqueSortedBounds(IReadOnlyList<RangeTombstone> tombstones)
    {
        var all = new List<byte[]>(tombstones.Count * 2);
        foreach (RangeTombstone t in tombstones)
        {
            all.Add(t.Start);
            all.Add(t.End);
        }

        all.Sort(static (a, b) => a.AsSpan().SequenceCompareTo(b));
        var unique = new List<byte[]>(all.Count);
        foreach (byte[] b in all)
        {
            if (unique.Count == 0 || !unique[^1].AsSpan().SequenceEqual(b))
            {
                unique.Add(b);
            }
        }

        return [.. unique];
    }

    /// <summary>Index of the fragment [bounds[i], bounds[i+1]) holding the key, or -1.</summary>
    private int FragmentOf(ReadOnlySpan<byte> userKey)
    {
        byte[][] bounds = _bounds;
        int lo = 0;
        int hi = bounds.Length - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bounds[mid].AsSpan().SequenceCompareTo(userKey) <= 0)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }
}
