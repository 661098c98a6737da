namespace NoKv.Storage.Memtable;

/// <summary>
/// Bump allocator over large byte[] chunks, so a memtable holds a handful of big arrays instead of an object
/// per entry (cheap for the GC to scan, cheap to drop). A reference is <c>(chunkIndex &lt;&lt; 32) | offset</c>.
/// The owner's first allocation lands at reference 0 (the skiplist head), so 0 can mean "null" in links.
/// </summary>
/// <remarks>
/// Thread safety: one allocating thread (the write path). Readers on other threads resolve references with
/// <see cref="Chunk"/>; the chunk table is published with a release write before any reference into a new
/// chunk can be published, so a reader that acquired a reference always finds its chunk.
/// </remarks>
internal sealed class Arena
{
    private readonly int _chunkSize;
    private readonly ArenaChunkPool? _pool;
    private byte[][] _chunks = new byte[16][];
    private int _chunkCount;
    private int _offset;
    private long _memoryUsage;

    /// <param name="pool">Where standard chunks come from and go back to on <see cref="Release"/> (null: plain
    /// arrays left to the GC). Its chunk size must be <paramref name="chunkSize"/>.</param>
    public Arena(int chunkSize, ArenaChunkPool? pool = null)
    {
        if (pool is not null && pool.ChunkSize != chunkSize)
        {
            throw new ArgumentException($"The pool recycles {pool.ChunkSize}-byte chunks, not {chunkSize}.", nameof(pool));
        }

        _chunkSize = chunkSize;
        _pool = pool;
        AddChunk(chunkSize);
    }

    /// <summary>Bytes of chunk memory held.</summary>
    public long MemoryUsage => Volatile.Read(ref _memoryUsage);

    /// <summary>Allocates <paramref name="size"/> bytes aligned to 8 and returns the reference.</summary>
    public long Allocate(int size)
    {
        int aligned = (_offset + 7) & ~7;
        if ((long)aligned + size > _chunks[_chunkCount - 1].Length)
        {
            // A large entry gets a chunk of exactly its size; the next allocation starts a fresh chunk.
            AddChunk(Math.Max(size, _chunkSize));
            aligned = 0;
        }

        _offset = aligned + size;
        return ((long)(_chunkCount - 1) << 32) | (uint)aligned;
    }

    /// <summary>The chunk that holds reference <paramref name="reference"/>.</summary>
    public byte[] Chunk(long reference) => Volatile.Read(ref _chunks)[(int)(reference >> 32)];

    private void AddChunk(int size)
    {
        byte[][] chunks = _chunks;
        if (_chunkCount == chunks.Length)
        {
            var bigger = new byte[chunks.Length * 2][];
            Array.Copy(chunks, bigger, chunks.Length);
            chunks = bigger;
        }

        // A recycled chunk holds an older memtable's bytes: the skiplist never reads a byte it did not write.
        chunks[_chunkCount] = _pool is not null && size == _chunkSize ? _pool.Rent() : new byte[size];
        _chunkCount++;
        _offset = 0;
        Volatile.Write(ref _chunks, chunks);
        Interlocked.Add(ref _memoryUsage, size);
    }

    /// <summary>
    /// Gives the chunks back to the pool. REQUIRES: nothing reads or writes the arena any more (its memtable's last
    /// reference is gone). A late access finds no chunks and throws rather than read another memtable's bytes.
    /// </summary>
    public void Release()
    {
        byte[][] chunks = Interlocked.Exchange(ref _chunks, []);
        int count = _chunkCount;
        _chunkCount = 0;
        Interlocked.Exchange(ref _memoryUsage, 0);
        if (_pool is null)
        {
            return;
        }

        for (int i = 0; i < count && i < chunks.Length; i++)
        {
            _pool.Return(chunks[i]);
        }
    }
}
