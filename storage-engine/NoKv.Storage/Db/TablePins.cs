using System.Collections.Concurrent;
using NoKv.Storage.Cache;
using NoKv.Storage.Manifest;

namespace NoKv.Storage.Db;

/// <summary>
/// Keeps the tables of live files open for point reads, so a Get probes a table through
/// <see cref="FileMetaData.PinnedTable"/> without a table-cache lookup or a reference-count increment and
/// decrement (a cache line every reading core writes), much like RocksDB keeps table readers in its file
/// metadata when every table may stay open.
/// </summary>
/// <remarks>
/// A pin is one table-cache reference owned by the file's metadata, taken on the first point read of the
/// file and dropped in <see cref="Unpin"/> when the file becomes obsolete: a reader reaches a file only
/// through a super version that holds its version, so no read can be using a pin when it is dropped. At most
/// <see cref="Budget"/> files are pinned; reads of further files go through the table cache as before. A
/// pinned table evicted from the table cache stays open through its pin, so the number of open tables can
/// exceed the table cache's capacity by up to the budget. Thread-safe.
/// </remarks>
internal sealed class TablePins : IDisposable
{
    private readonly TableCache _tables;
    private readonly ConcurrentDictionary<FileMetaData, TableCacheEntry> _pins = new(ReferenceEqualityComparer.Instance);
    private volatile bool _disposed;
    private long _pinnedBytes;

    /// <param name="bytesBudget">Most index and filter bytes pinned at once (0 = bounded by count only).</param>
    public TablePins(TableCache tables, int budget, long bytesBudget = 0)
    {
        _tables = tables;
        Budget = budget;
        BytesBudget = bytesBudget;
    }

    /// <summary>Most files pinned at once.</summary>
    public int Budget { get; }

    /// <summary>Most index and filter bytes pinned at once; 0 when only <see cref="Budget"/> bounds pins.</summary>
    public long BytesBudget { get; }

    /// <summary>Index and filter bytes of the pinned tables.</summary>
    public long PinnedBytes => Interlocked.Read(ref _pinnedBytes);

    public int Count => _pins.Count;

    /// <summary>
    /// The pinned table of <paramref name="file"/>, pinning it now if the budget allows; null when it is not
    /// pinned (the caller then acquires and releases the table through the table cache).
    /// REQUIRES: the caller holds a super version whose version contains <paramref name="file"/>.
    /// </summary>
    public TableCacheEntry? Get(FileMetaData file) => file.PinnedTable ?? TryPin(file);

    /// <summary>Drops the pin of a file no version holds any more.</summary>
    public void Unpin(FileMetaData file)
    {
        if (_pins.TryRemove(file, out TableCacheEntry? entry))
        {
            Interlocked.Add(ref _pinnedBytes, -entry.Reader.MemoryBytes);
            entry.Release();
        }
    }

    /// <summary>Drops every pin. REQUIRES: no reads in flight or starting.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (KeyValuePair<FileMetaData, TableCacheEntry> pin in _pins)
        {
            if (_pins.TryRemove(pin))
            {
                Interlocked.Add(ref _pinnedBytes, -pin.Value.Reader.MemoryBytes);
                pin.Value.Release();
            }
        }
    }

    private TableCacheEntry? TryPin(FileMetaData file)
    {
        if (_disposed || _pins.Count >= Budget)
        {
            return null;
        }

        TableCacheEntry entry = _tables.Acquire((long)file.Number);
        long bytes = entry.Reader.MemoryBytes;
        if (BytesBudget > 0 && Interlocked.Add(ref _pinnedBytes, bytes) > BytesBudget)
        {
            // Over the byte budget: read this file through the table cache, which bounds it by its own share.
            Interlocked.Add(ref _pinnedBytes, -bytes);
            entry.Release();
            return null;
        }

        if (BytesBudget == 0)
        {
            Interlocked.Add(ref _pinnedBytes, bytes);
        }

        if (!file.TrySetPinnedTable(entry))
        {
            // Another reader pinned it first; use theirs.
            Interlocked.Add(ref _pinnedBytes, -bytes);
            entry.Release();
            return file.PinnedTable;
        }

        _pins[file] = entry;
        if (_disposed)
        {
            // Raced with Dispose: drop what it may have missed (TryRemove makes the release happen once).
            Unpin(file);
            return null;
        }

        return entry;
    }
}
