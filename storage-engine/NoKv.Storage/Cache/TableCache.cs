using System.Collections.Concurrent;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Cache;

/// <summary>
/// Keeps up to <see cref="Capacity"/> tables open (reader + index + filter in memory), by file number,
/// evicting the least recently used (approximately: by a recency stamp); with a byte bound, also while the open
/// tables' index and filter memory exceeds <see cref="MemoryCapacityBytes"/>. Tables are opened on demand
/// through the <see cref="IFileSystem"/>.
/// </summary>
/// <remarks>
/// Thread-safe. A lookup of an open table takes no lock: a concurrent-dictionary read, a compare-and-swap
/// on the entry's reference count and a recency stamp, because every point read of the database probes
/// several tables through here. Opening a table happens outside every lock; only inserting it (and picking
/// a victim when full, a scan of at most <see cref="Capacity"/> entries, paid only on a miss that opened a
/// file anyway) is serialized. Two threads that miss on the same table may both open it; the loser closes
/// its copy. Evicting a table another thread is reading closes it only when that reader finishes
/// (reference counts, see <see cref="TableCacheEntry"/>), so the number of open files can briefly exceed
/// the capacity by the number of tables in use after eviction.
/// File numbers key the block cache too: they must be unique for the lifetime of the caches (the db layer
/// never reuses them).
/// </remarks>
public sealed class TableCache : IDisposable
{
    private readonly IFileSystem _fileSystem;
    private readonly Func<long, string> _pathOf;
    private readonly TableOptions _options;
    private readonly BlockCache? _blockCache;
    private readonly ConcurrentDictionary<long, TableCacheEntry> _map = new();
    private readonly Lock _insertLock = new();
    private readonly StripedCounter _hits = new();
    private readonly StripedCounter _misses = new();
    private long _evictions;
    private int _count;

    // Index, filter and search-aid bytes of the tables in _map. Changed under _insertLock only.
    private long _openBytes;

    // Recency clock for LRU stamps. Bumped without synchronization: a lost increment only makes two uses
    // look simultaneous, which is harmless for choosing a victim.
    private long _clock;
    private volatile bool _disposed;

    /// <param name="pathOf">Maps a file number to the table's path.</param>
    /// <param name="capacity">Most tables kept open (the db layer's MaxOpenTables).</param>
    /// <param name="memoryCapacityBytes">Most index and filter bytes kept open (0 = no byte bound). The table just
    /// opened always stays, so one table larger than the bound is still served.</param>
    public TableCache(IFileSystem fileSystem, Func<long, string> pathOf, TableOptions options, BlockCache? blockCache, int capacity, long memoryCapacityBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(memoryCapacityBytes);
        ArgumentNullException.ThrowIfNull(fileSystem);
        ArgumentNullException.ThrowIfNull(pathOf);
        ArgumentNullException.ThrowIfNull(options);
        if (capacity < 1)
        {
            throw new ArgumentException($"Table cache capacity must be at least 1, was {capacity}.", nameof(capacity));
        }

        options.Validate();
        _fileSystem = fileSystem;
        _pathOf = pathOf;
        _options = options;
        _blockCache = blockCache;
        Capacity = capacity;
        MemoryCapacityBytes = memoryCapacityBytes;
    }

    public int Capacity { get; }

    /// <summary>Bound on the open tables' index and filter bytes; 0 when only <see cref="Capacity"/> bounds them.</summary>
    public long MemoryCapacityBytes { get; }

    public TableOptions Options => _options;

    public BlockCache? BlockCache => _blockCache;

    public TableCacheStatistics GetStatistics() =>
        new(_hits.Sum(), _misses.Sum(), Interlocked.Read(ref _evictions), Volatile.Read(ref _count), Capacity, Interlocked.Read(ref _openBytes));

    /// <summary>
    /// Point lookup in table <paramref name="fileNumber"/>; see <see cref="TableReader.TryGet"/> for the
    /// meaning of the result. Opens the table if needed. The table is released before returning, so the
    /// spans stay valid afterwards only for unmapped tables (<see cref="TableOptions.UseMappedReads"/> off):
    /// the database's own lookups hold the table (<see cref="Acquire"/>) while they copy the value instead.
    /// </summary>
    internal bool TryGet(long fileNumber, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value, bool fillCache = true)
    {
        TableCacheEntry entry = Acquire(fileNumber);
        try
        {
            if (entry.Reader.IsMapped)
            {
                // The spans would point into a mapping that the release below may unmap.
                throw new InvalidOperationException("TableCache.TryGet cannot return spans from a mapped table; use Acquire and Release around the read.");
            }

            // Unmapped: the spans point into blocks (GC arrays) and per-thread scratch, not into the reader's
            // file, so they outlive the release below.
            return entry.Reader.TryGet(key, out foundKey, out value, fillCache);
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>An iterator over table <paramref name="fileNumber"/> that keeps the table open until disposed.</summary>
    internal PinnedTableIterator NewIterator(long fileNumber, bool fillCache = true)
    {
        TableCacheEntry entry = Acquire(fileNumber);
        try
        {
            return new PinnedTableIterator(entry, fillCache);
        }
        catch
        {
            entry.Release();
            throw;
        }
    }

    internal long ApproximateOffsetOf(long fileNumber, ReadOnlySpan<byte> key)
    {
        TableCacheEntry entry = Acquire(fileNumber);
        try
        {
            return entry.Reader.ApproximateOffsetOf(key);
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>Properties of table <paramref name="fileNumber"/> (opens it if needed).</summary>
    internal TableProperties GetProperties(long fileNumber)
    {
        TableCacheEntry entry = Acquire(fileNumber);
        TableProperties properties = entry.Reader.Properties;
        entry.Release();
        return properties;
    }

    /// <summary>
    /// Drops table <paramref name="fileNumber"/> from the cache (call before deleting its file). It is closed
    /// now if unused, otherwise when its last user releases it.
    /// </summary>
    public void Evict(long fileNumber)
    {
        TableCacheEntry? removed;
        lock (_insertLock)
        {
            if (!_map.TryRemove(fileNumber, out removed))
            {
                return;
            }

            _count--;
            _openBytes -= removed.Reader.MemoryBytes;
        }

        // Outside the lock: dropping the last reference closes the file.
        removed.Release();
    }

    /// <summary>
    /// Evicts every table; tables still in use close when released. REQUIRES: no lookups start afterwards
    /// (they throw <see cref="ObjectDisposedException"/>).
    /// </summary>
    public void Dispose()
    {
        lock (_insertLock)
        {
            _disposed = true;
            foreach (KeyValuePair<long, TableCacheEntry> pair in _map)
            {
                if (_map.TryRemove(pair))
                {
                    _count--;
                    _openBytes -= pair.Value.Reader.MemoryBytes;
                    pair.Value.Release();
                }
            }
        }
    }

    /// <summary>Returns the entry with one reference added for the caller, who must Release it.</summary>
    internal TableCacheEntry Acquire(long fileNumber)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_map.TryGetValue(fileNumber, out TableCacheEntry? entry) && entry.TryAddReference())
        {
            entry.LastUsed = ++_clock;
            _hits.Increment();
            return entry;
        }

        _misses.Increment();
        entry = null;
        TableReader reader = TableReader.Open(_fileSystem.OpenRandomAccess(_pathOf(fileNumber)), fileNumber, _options, _blockCache);
        TableReader? loser = null;
        List<TableCacheEntry>? victims = null;
        lock (_insertLock)
        {
            if (_disposed)
            {
                loser = reader;
            }
            else if (_map.TryGetValue(fileNumber, out TableCacheEntry? existing) && existing.TryAddReference())
            {
                // Another thread opened it meanwhile.
                existing.LastUsed = ++_clock;
                entry = existing;
                loser = reader;
            }
            else
            {
                // One reference for the cache, one for the caller.
                entry = new TableCacheEntry(fileNumber, reader, initialReferences: 2, lastUsed: ++_clock);
                if (existing is not null && _map.TryRemove(new KeyValuePair<long, TableCacheEntry>(fileNumber, existing)))
                {
                    _count--;
                    _openBytes -= existing.Reader.MemoryBytes;
                }

                _map[fileNumber] = entry;
                _count++;
                _openBytes += reader.MemoryBytes;
                while (_count > Capacity || (MemoryCapacityBytes > 0 && _openBytes > MemoryCapacityBytes && _count > 1))
                {
                    TableCacheEntry? victim = LeastRecentlyUsedExcept(entry);
                    if (victim is null || !_map.TryRemove(new KeyValuePair<long, TableCacheEntry>(victim.FileNumber, victim)))
                    {
                        break;
                    }

                    _count--;
                    _openBytes -= victim.Reader.MemoryBytes;
                    _evictions++;
                    (victims ??= []).Add(victim);
                }
            }
        }

        loser?.Dispose();
        if (victims is not null)
        {
            foreach (TableCacheEntry victim in victims)
            {
                victim.Release();
            }
        }

        ObjectDisposedException.ThrowIf(entry is null, this);
        return entry;
    }

    /// <summary>REQUIRES: _insertLock held. O(open tables); only called on a miss that already opened a file.</summary>
    private TableCacheEntry? LeastRecentlyUsedExcept(TableCacheEntry keep)
    {
        TableCacheEntry? oldest = null;
        foreach (KeyValuePair<long, TableCacheEntry> pair in _map)
        {
            if (pair.Value != keep && (oldest is null || pair.Value.LastUsed < oldest.LastUsed))
            {
                oldest = pair.Value;
            }
        }

        return oldest;
    }
}
