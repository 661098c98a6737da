using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// A block read from a table together with the buffer it lives in, reference counted so the buffer can be
/// recycled (<see cref="BlockCache"/> keeps a few free ones per shard) instead of left to the GC. Each reader
/// that got a node from <see cref="BlockCache.TryGet"/> or <see cref="BlockCache.Rent"/> owns one reference and
/// calls <see cref="Release"/> once it no longer uses the block or any span read from it; the cache owns one
/// more while the node is in its map. The last release returns the buffer to the shard's free list.
/// </summary>
/// <remarks>
/// Thread safety: <see cref="Refs"/> changes with interlocked operations; a reference is only ever added under
/// the shard's lock to a node the cache still holds (so it cannot be at zero). <see cref="Prev"/>,
/// <see cref="Next"/> and <see cref="InCache"/> are guarded by the shard's lock. <see cref="Block"/> and
/// <see cref="Buffer"/> are written only while the node is unreachable by anyone else (rented, not yet
/// inserted).
/// </remarks>
internal sealed class BlockCacheNode
{
    private int _refs;

    public BlockCacheNode(BlockCacheShard? shard, byte[] buffer)
    {
        Shard = shard;
        Buffer = buffer;
        Block = Block.Parse(EmptyBlockBytes, 8, string.Empty, 0);
    }

    // A well-formed empty block (one restart at 0), so a fresh node's Block is never null.
    private static readonly byte[] EmptyBlockBytes = [0, 0, 0, 0, 1, 0, 0, 0];

    /// <summary>The shard the node's buffer returns to (null for the list sentinel).</summary>
    public BlockCacheShard? Shard { get; }

    public BlockCacheKey Key { get; set; }

    /// <summary>The buffer <see cref="Block"/> reads from; may be longer than the block.</summary>
    public byte[] Buffer { get; set; }

    /// <summary>The parsed block over <see cref="Buffer"/>.</summary>
    public Block Block { get; }

    /// <summary>Bytes charged against the cache's capacity while the node is cached.</summary>
    public int Charge => Buffer.Length + Overhead;

    public int Refs => Volatile.Read(ref _refs);

    public bool InCache { get; set; }

    public BlockCacheNode Prev { get; set; } = null!;

    public BlockCacheNode Next { get; set; } = null!;

    /// <summary>Bookkeeping charged per node besides its buffer (node, block, map entry).</summary>
    public const int Overhead = 160;

    /// <summary>Parses the first <paramref name="size"/> bytes of <see cref="Buffer"/> as this node's block. REQUIRES: the caller alone holds the node.</summary>
    public void ParseBlock(int size, string path, long fileOffset) => Block.Rebind(Buffer, size, path, fileOffset);

    /// <summary>Adds a reference. REQUIRES: the caller holds one, or the shard's lock while the node is cached.</summary>
    public void AddRef() => Interlocked.Increment(ref _refs);

    /// <summary>Drops one reference; the last one recycles the buffer.</summary>
    public void Release()
    {
        int refs = Interlocked.Decrement(ref _refs);
        if (refs == 0)
        {
            Shard?.Recycle(this);
        }
        else if (refs < 0)
        {
            throw new InvalidOperationException("Block cache node released more often than referenced.");
        }
    }

    /// <summary>Drops the cache's reference under the shard's lock; true if it was the last (the caller recycles).</summary>
    public bool DropReference()
    {
        int refs = Interlocked.Decrement(ref _refs);
        if (refs < 0)
        {
            throw new InvalidOperationException("Block cache node released more often than referenced.");
        }

        return refs == 0;
    }

    /// <summary>Sets the count of a node that nobody else can reach (fresh or recycled).</summary>
    public void ResetRefs(int refs) => Volatile.Write(ref _refs, refs);
}
