using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Cache;

/// <summary>
/// Keeps up to <see cref="Capacity"/> tables open (reader + index + filter in memory), by file number,
/// evicting the least recently used. Tables are opened on demand through the <see cref="IFileSystem"/>.
/// </summary>
/// <remarks>
/// Thread-safe; sharded by file number, one lock per shard, held only for map and list updates. Opening a
/// table (file I/O) happens outside every lock: two threads that miss on the same table may both open it,
/// and the loser closes its copy. Evicting a table another thread is reading closes it only when that
/// reader finishes (reference counts, see <see cref="TableCacheEntry"/>), so the number of open files can
/// briefly exceed the capacity by the number of tables in use after eviction.
/// File numbers key the block cache too: they must be unique for the lifetime of the caches (the db layer
/// never reuses them).
/// </remarks>
public sealed class TableCache : IDisposable
{
    private readonly IFileSystem _fileSystem;
    private readonly Func<long, string> _pathOf;
    private readonly TableOptions _options;
    private readonly BlockCache? _blockCache;
    private readonly TableCacheShard[] _shards;
    private bool _disposed;

    /// <param name="pathOf">Maps a file number to the table's path.</param>
    /// <param name="capacity">Most tables kept open (the db layer's MaxOpenTables).</param>
    public TableCache(IFileSystem fileSystem, Func<long, string> pathOf, TableOptions options, BlockCache? blockCache, int capacity)
    {
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

        // Enough shards to spread contention, while each keeps a useful share (>= 4 tables); the shares
        // sum to at most the capacity.
        int shardCount = 1;
        while (shardCount < 16 && capacity / (shardCount * 2) >= 4)
        {
            shardCount *= 2;
        }

        _shards = new TableCacheShard[shardCount];
        for (int i = 0; i < shardCount; i++)
        {
            _shards[i] = new TableCacheShard(capacity / shardCount);
        }
    }

    public int Capacity { get; }

    public TableOptions Options => _options;

    public BlockCache? BlockCache => _blockCache;

    public TableCacheStatistics GetStatistics()
    {
        long hits = 0, misses = 0, evictions = 0;
        int open = 0;
        foreach (TableCacheShard shard in _shards)
        {
            lock (shard.Lock)
            {
                hits += shard.Hits;
                misses += shard.Misses;
                evictions += shard.Evictions;
                open += shard.Count;
            }
        }

        return new TableCacheStatistics(hits, misses, evictions, open, Capacity);
    }

    /// <summary>
    /// Point lookup in table <paramref name="fileNumber"/>; see <see cref="TableReader.TryGet"/> for the
    /// meaning of the result and how long the spans stay valid. Opens the table if needed.
    /// </summary>
    internal bool TryGet(long fileNumber, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value, bool fillCache = true)
    {
        TableCacheEntry entry = Acquire(fileNumber);
        try
        {
            // The spans point into blocks (GC arrays) and per-thread scratch, not into the reader's file,
            // so they outlive the release below.
            return entry.Reader.TryGet(key, out foundKey, out value, fillCache);
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>An iterator over table <paramref name="fileNumber"/> that keeps the table open until disposed.</summary>
    internal IInternalIterator NewIterator(long fileNumber, bool fillCache = true)
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
        TableCacheEntry? removed = ShardFor(fileNumber).Remove(fileNumber);
        removed?.Release();
    }

    /// <summary>Evicts every table; tables still in use close when released.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (TableCacheShard shard in _shards)
        {
            foreach (TableCacheEntry entry in shard.RemoveAll())
            {
                entry.Release();
            }
        }
    }

    /// <summary>Returns the entry with one reference added for the caller, who must Release it.</summary>
    internal TableCacheEntry Acquire(long fileNumber)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TableCacheShard shard = ShardFor(fileNumber);
        if (shard.TryAcquire(fileNumber, out TableCacheEntry? entry))
        {
            return entry;
        }

        TableReader reader = TableReader.Open(_fileSystem.OpenRandomAccess(_pathOf(fileNumber)), fileNumber, _options, _blockCache);
        entry = shard.AddOrAcquire(fileNumber, reader, out TableReader? loser, out TableCacheEntry? evicted);
        loser?.Dispose();
        evicted?.Release();
        return entry;
    }

    private TableCacheShard ShardFor(long fileNumber)
    {
        ulong h = (ulong)fileNumber * 0x9E3779B97F4A7C15UL;
        return _shards[(int)(h >> 32) & (_shards.Length - 1)];
    }
}
