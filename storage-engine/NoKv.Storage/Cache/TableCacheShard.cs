using System.Diagnostics.CodeAnalysis;
using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// One shard of the <see cref="TableCache"/>: an LRU of open tables holding a share of the capacity.
/// Every member is guarded by <see cref="Lock"/>.
/// </summary>
internal sealed class TableCacheShard(int capacity)
{
    private readonly Dictionary<long, TableCacheEntry> _map = [];

    // Most recently used first.
    private TableCacheEntry? _head;
    private TableCacheEntry? _tail;

    public Lock Lock { get; } = new();

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public long Evictions { get; private set; }

    public int Count => _map.Count;

    public bool TryAcquire(long fileNumber, [NotNullWhen(true)] out TableCacheEntry? entry)
    {
        lock (Lock)
        {
            if (_map.TryGetValue(fileNumber, out entry))
            {
                entry.AddReference();
                MoveToFront(entry);
                Hits++;
                return true;
            }

            Misses++;
            return false;
        }
    }

    /// <summary>
    /// Inserts a freshly opened reader, unless another thread got there first (then <paramref name="loser"/>
    /// is the caller's reader, to close). At most one entry is evicted (<paramref name="evicted"/>, whose
    /// cache reference the caller releases outside the lock).
    /// </summary>
    public TableCacheEntry AddOrAcquire(long fileNumber, TableReader reader, out TableReader? loser, out TableCacheEntry? evicted)
    {
        lock (Lock)
        {
            evicted = null;
            if (_map.TryGetValue(fileNumber, out TableCacheEntry? existing))
            {
                existing.AddReference();
                MoveToFront(existing);
                loser = reader;
                return existing;
            }

            loser = null;

            // One reference for the cache, one for the caller.
            var entry = new TableCacheEntry(fileNumber, reader, initialReferences: 2);
            _map.Add(fileNumber, entry);
            PushFront(entry);
            if (_map.Count > capacity)
            {
                evicted = _tail!;
                Unlink(evicted);
                _map.Remove(evicted.FileNumber);
                Evictions++;
            }

            return entry;
        }
    }

    public TableCacheEntry? Remove(long fileNumber)
    {
        lock (Lock)
        {
            if (_map.Remove(fileNumber, out TableCacheEntry? entry))
            {
                Unlink(entry);
                return entry;
            }

            return null;
        }
    }

    public List<TableCacheEntry> RemoveAll()
    {
        lock (Lock)
        {
            var all = new List<TableCacheEntry>(_map.Values);
            _map.Clear();
            _head = null;
            _tail = null;
            return all;
        }
    }

    private void MoveToFront(TableCacheEntry entry)
    {
        if (_head != entry)
        {
            Unlink(entry);
            PushFront(entry);
        }
    }

    private void PushFront(TableCacheEntry entry)
    {
        entry.Prev = null;
        entry.Next = _head;
        if (_head is not null)
        {
            _head.Prev = entry;
        }

        _head = entry;
        _tail ??= entry;
    }

    private void Unlink(TableCacheEntry entry)
    {
        if (entry.Prev is not null)
        {
            entry.Prev.Next = entry.Next;
        }
        else if (_head == entry)
        {
            _head = entry.Next;
        }

        if (entry.Next is not null)
        {
            entry.Next.Prev = entry.Prev;
        }
        else if (_tail == entry)
        {
            _tail = entry.Prev;
        }

        entry.Prev = null;
        entry.Next = null;
    }
}
