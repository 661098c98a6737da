using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// One open table in the <see cref="TableCache"/>, reference-counted: the cache holds one reference while
/// the entry is resident, and every lookup or iterator holds one while it uses the reader. The reader (and
/// its file handle) is closed when the count reaches zero, so evicting a table that a reader is using
/// only closes it after that reader is done.
/// </summary>
/// <remarks>
/// Thread-safe and lock-free. Invariant: once the count reaches zero it never rises again
/// (<see cref="TryAddReference"/> refuses), so a reader that raced with eviction either holds a live
/// reference or learns the entry is dead and looks again. The cache removes an entry from its map
/// before dropping its own reference, so a dead entry is never found in the map for long.
/// </remarks>
internal sealed class TableCacheEntry
{
    private int _references;
    private long _lastUsed;

    public TableCacheEntry(long fileNumber, TableReader reader, int initialReferences, long lastUsed)
    {
        FileNumber = fileNumber;
        Reader = reader;
        _references = initialReferences;
        _lastUsed = lastUsed;
    }

    public long FileNumber { get; }

    public TableReader Reader { get; }

    /// <summary>Recency stamp for approximate LRU eviction; written racily (last writer wins), which is fine.</summary>
    public long LastUsed
    {
        get => Volatile.Read(ref _lastUsed);
        set => Volatile.Write(ref _lastUsed, value);
    }

    /// <summary>Adds a reference unless the entry is already dead (count zero, reader closed).</summary>
    public bool TryAddReference()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void Release()
    {
        int remaining = Interlocked.Decrement(ref _references);
        if (remaining == 0)
        {
            Reader.Dispose();
        }
        else if (remaining < 0)
        {
            throw new InvalidOperationException($"Table {FileNumber} released more often than acquired.");
        }
    }
}
