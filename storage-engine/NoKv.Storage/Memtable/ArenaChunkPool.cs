namespace NoKv.Storage.Memtable;

/// <summary>
/// Free memtable arena chunks of one database, handed from a memtable that nobody reads any more to the memtables
/// that follow it, so a steady write load allocates no new chunks.
/// </summary>
/// <remarks>
/// Why: a chunk is a large array (up to 1 MiB), so it lives on the large object heap, which the GC reclaims only
/// in a full collection. Without reuse every flushed memtable left its whole arena there as garbage until the next
/// one; under YCSB's load (64 MiB memtables) the process's anonymous memory reached 590 MiB against RocksDB's 144
/// MiB. Chunks come back through <see cref="MemTable.Unref"/>: only when no super version (so no read or iterator)
/// and not the database itself hold the memtable. A recycled chunk is not cleared; the skiplist writes every byte
/// it later reads. Chunks in use and free ones together stay within <see cref="MaxChunks"/> (the write buffers'
/// own bound: the mutable and every immutable memtable full): a chunk given back beyond that is left to the GC,
/// so neither idle chunks nor a reader holding an old memtable make the write buffers exceed what they may hold
/// anyway. Thread-safe.
/// </remarks>
internal sealed class ArenaChunkPool
{
    private readonly Lock _lock = new();
    private readonly Stack<byte[]> _free = new();
    private long _created;
    private long _dropped;
    private long _releasedBytes;

    // Chunks handed out by Rent and not yet given back. Guarded by _lock.
    private int _inUse;

    public ArenaChunkPool(int chunkSize, int maxChunks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxChunks);
        ChunkSize = chunkSize;
        MaxChunks = maxChunks;
    }

    /// <summary>The one chunk size this pool recycles (the arena's standard chunk; larger one-entry chunks are not kept).</summary>
    public int ChunkSize { get; }

    public int MaxChunks { get; }

    /// <summary>Chunks allocated because none was free (for tests and diagnostics).</summary>
    public long CreatedChunks => Interlocked.Read(ref _created);

    /// <summary>Chunks given back while the pool was full, left to the GC (for tests and diagnostics).</summary>
    public long DroppedChunks => Interlocked.Read(ref _dropped);

    /// <summary>Bytes of free chunks whose physical memory <see cref="ReleaseFreeChunkMemory"/> gave back (for tests and diagnostics).</summary>
    public long ReleasedBytes => Interlocked.Read(ref _releasedBytes);

    /// <summary>Chunks waiting for reuse.</summary>
    public int FreeChunks
    {
        get
        {
            lock (_lock)
            {
                return _free.Count;
            }
        }
    }

    /// <summary>A free chunk of <see cref="ChunkSize"/> bytes (contents undefined), or a new zeroed one when none is free.</summary>
    public byte[] Rent()
    {
        lock (_lock)
        {
            _inUse++;
            if (_free.TryPop(out byte[]? chunk))
            {
                return chunk;
            }
        }

        Interlocked.Increment(ref _created);
        return new byte[ChunkSize];
    }

    /// <summary>
    /// Gives the physical memory of every free chunk back to the operating system (<see cref="ChunkMemory"/>), keeping
    /// the chunks: the next memtables still take them from here (no large-object garbage), and their pages come back,
    /// zeroed, as they are written, as a new chunk's would. For chunks that may stay idle for long: those of the
    /// memtables replayed at open, up to a whole memtable's worth, which a database that then mostly reads (or writes
    /// little) would otherwise keep resident for its lifetime. Returns the bytes released. Thread-safe; a concurrent
    /// <see cref="Rent"/> waits.
    /// </summary>
    public long ReleaseFreeChunkMemory()
    {
        long released = 0;
        lock (_lock)
        {
            foreach (byte[] chunk in _free)
            {
                released += ChunkMemory.ReleasePages(chunk);
            }
        }

        Interlocked.Add(ref _releasedBytes, released);
        return released;
    }

    /// <summary>Takes back a chunk from <see cref="Rent"/> that nothing references any more; kept while chunks in use and free ones stay within <see cref="MaxChunks"/>.</summary>
    public void Return(byte[] chunk)
    {
        if (chunk.Length != ChunkSize)
        {
            return;
        }

        lock (_lock)
        {
            _inUse--;
            if (_inUse + _free.Count < MaxChunks)
            {
                _free.Push(chunk);
                return;
            }
        }

        Interlocked.Increment(ref _dropped);
    }
}
