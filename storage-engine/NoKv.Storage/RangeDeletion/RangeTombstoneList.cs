namespace NoKv.Storage.RangeDeletion;

/// <summary>
/// The growing set of range tombstones of a mutable memtable. One writer appends; readers query without
/// locks. Queries use an index rebuilt now and then plus a short linear scan of tombstones added since,
/// so a burst of range deletes does not rebuild the index on every read.
/// </summary>
internal sealed class RangeTombstoneList
{
    private readonly Lock _gate = new();
    private RangeTombstone[] _items = [];
    private int _count;
    private RangeTombstoneIndex _index = RangeTombstoneIndex.Empty;

    public int Count => Volatile.Read(ref _count);

    /// <summary>REQUIRES: one writer at a time.</summary>
    public void Add(RangeTombstone t)
    {
        lock (_gate)
        {
            RangeTombstone[] items = _items;
            if (_count == items.Length)
            {
                var bigger = new RangeTombstone[Math.Max(4, items.Length * 2)];
                Array.Copy(items, bigger, _count);
                items = bigger;
                Volatile.Write(ref _items, items);
            }

            items[_count] = t;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>A copy of the tombstones added so far.</summary>
    public RangeTombstone[] ToArray()
    {
        int n = Volatile.Read(ref _count);
        return _items.AsSpan(0, n).ToArray();
    }

    /// <summary>See <see cref="RangeTombstoneIndex.MaxCoveringSequence"/>.</summary>
    public ulong MaxCoveringSequence(ReadOnlySpan<byte> userKey, ulong snapshot)
    {
        int n = Volatile.Read(ref _count);
        if (n == 0)
        {
            return 0;
        }

        RangeTombstone[] items = Volatile.Read(ref _items);
        RangeTombstoneIndex index = Volatile.Read(ref _index);
        int indexed = index.Tombstones.Length;
        if (n - indexed > 16 && n - indexed > indexed / 4)
        {
            index = RangeTombstoneIndex.Build(new ArraySegment<RangeTombstone>(items, 0, n));
            Volatile.Write(ref _index, index);
            indexed = n;
        }

        ulong best = index.MaxCoveringSequence(userKey, snapshot);
        for (int i = indexed; i < n; i++)
        {
            RangeTombstone t = items[i];
            if (t.Sequence <= snapshot && t.Sequence > best && t.Contains(userKey))
            {
                best = t.Sequence;
            }
        }

        return best;
    }
}
