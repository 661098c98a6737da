using NoKv.Storage.Cache;
using NoKv.Storage.Manifest;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Db;

/// <summary>
/// The table cache: open <see cref="TableReader"/>s (file handle, index block, bloom filter) for at most
/// <c>capacity</c> tables, least recently used evicted first. Handles are reference counted, so eviction
/// never closes a reader that an iterator or a lookup is still using. Thread-safe (one lock, held only for
/// dictionary and list updates; files are opened outside it).
/// </summary>
internal sealed class TableHandleCache : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly TableOptions _options;
    private readonly BlockCache? _blockCache;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, LinkedListNode<TableHandle>> _map = [];
    private readonly LinkedList<TableHandle> _lru = new();
    private long _hits;
    private long _misses;

    public TableHandleCache(IFileSystem fs, string dir, TableOptions options, BlockCache? blockCache, int capacity)
    {
        _fs = fs;
        _dir = dir;
        _options = options;
        _blockCache = blockCache;
        _capacity = capacity;
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>A referenced handle for the file; the caller must <see cref="TableHandle.Release"/> it.</summary>
    public TableHandle Acquire(FileMetaData file)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(file.Number, out LinkedListNode<TableHandle>? node) && node.Value.TryRef())
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                _hits++;
                return node.Value;
            }
        }

        Interlocked.Increment(ref _misses);
        string path = FileNames.Table(_dir, file.Number);
        IRandomAccessFile raf = _fs.OpenRandomAccess(path);
        TableReader reader;
        try
        {
            reader = TableReader.Open(raf, (long)file.Number, _options, _blockCache);
        }
        catch
        {
            raf.Dispose();
            throw;
        }

        var handle = new TableHandle(file.Number, reader);
        lock (_gate)
        {
            if (_map.TryGetValue(file.Number, out LinkedListNode<TableHandle>? raced) && raced.Value.TryRef())
            {
                handle.Release();
                return raced.Value;
            }

            if (raced is not null)
            {
                _map.Remove(file.Number);
                _lru.Remove(raced);
            }

            handle.TryRef();
            _map[file.Number] = _lru.AddFirst(handle);
            while (_map.Count > _capacity && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _map.Remove(last.Value.Number);
                last.Value.Release();
            }
        }

        return handle;
    }

    /// <summary>Drops the cache's reference to a table (its file is about to be deleted).</summary>
    public void Evict(ulong number)
    {
        lock (_gate)
        {
            if (_map.Remove(number, out LinkedListNode<TableHandle>? node))
            {
                _lru.Remove(node);
                node.Value.Release();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (TableHandle h in _lru)
            {
                h.Release();
            }

            _lru.Clear();
            _map.Clear();
        }
    }
}
