namespace NoKv.Storage.RangeDeletion;

/// <summary>
/// Immutable index over a set of range tombstones, answering "the newest tombstone visible at snapshot S
/// that covers key k" in O(log n).
/// </summary>
/// <remarks>
/// The tombstones are cut at every start and end key into non-overlapping fragments
/// [bounds[i], bounds[i+1]); each fragment keeps the sequence numbers of the tombstones covering it,
/// newest first. Thread-safe (immutable).
/// </remarks>
internal sealed class RangeTombstoneIndex
{
    public static readonly RangeTombstoneIndex Empty = new([], [], []);

    private readonly byte[][] _bounds;
    private readonly ulong[][] _sequences;

    private RangeTombstoneIndex(byte[][] bounds, ulong[][] sequences, RangeTombstone[] tombstones)
    {
        _bounds = bounds;
        _sequences = sequences;
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

        var all = new List<byte[]>(tombstones.Count * 2);
        foreach (RangeTombstone t in tombstones)
        {
            all.Add(t.Start);
            all.Add(t.End);
        }

        all.Sort(static (a, b) => a.AsSpan().SequenceCompareTo(b));
        var bounds = new List<byte[]>(all.Count);
        foreach (byte[] b in all)
        {
            if (bounds.Count == 0 || !bounds[^1].AsSpan().SequenceEqual(b))
            {
                bounds.Add(b);
            }
        }

        var lists = new List<ulong>?[bounds.Count];
        byte[][] boundArray = [.. bounds];
        foreach (RangeTombstone t in tombstones)
        {
            int i = LowerBound(boundArray, t.Start);
            for (; i < boundArray.Length && boundArray[i].AsSpan().SequenceCompareTo(t.End) < 0; i++)
            {
                (lists[i] ??= []).Add(t.Sequence);
            }
        }

        var sequences = new ulong[boundArray.Length][];
        for (int i = 0; i < sequences.Length; i++)
        {
            if (lists[i] is { } l)
            {
                l.Sort(static (a, b) => b.CompareTo(a));
                sequences[i] = [.. l];
            }
            else
            {
                sequences[i] = [];
            }
        }

        return new RangeTombstoneIndex(boundArray, sequences, [.. tombstones]);
    }

    /// <summary>
    /// The largest sequence number &lt;= <paramref name="snapshot"/> of a tombstone covering
    /// <paramref name="userKey"/>, or 0 if none. A version with sequence s is deleted iff s &lt; the result.
    /// </summary>
    public ulong MaxCoveringSequence(ReadOnlySpan<byte> userKey, ulong snapshot)
    {
        byte[][] bounds = _bounds;
        if (bounds.Length == 0)
        {
            return 0;
        }

        // Fragment i is [bounds[i], bounds[i+1]): find the last bound <= key.
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

        if (found < 0)
        {
            return 0;
        }

        foreach (ulong s in _sequences[found])
        {
            if (s <= snapshot)
            {
                return s;
            }
        }

        return 0;
    }

    /// <summary>The smallest sequence above <paramref name="sequence"/> of a tombstone covering <paramref name="userKey"/>, or 0.</summary>
    public ulong MinCoveringAbove(ReadOnlySpan<byte> userKey, ulong sequence)
    {
        int found = FragmentOf(userKey);
        if (found < 0)
        {
            return 0;
        }

        ulong[] seqs = _sequences[found];
        for (int i = seqs.Length - 1; i >= 0; i--)
        {
            if (seqs[i] > sequence)
            {
                return seqs[i];
            }
        }

        return 0;
    }

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

    private static int LowerBound(byte[][] bounds, byte[] key)
    {
        int lo = 0;
        int hi = bounds.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bounds[mid].AsSpan().SequenceCompareTo(key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
