using System.Diagnostics.CodeAnalysis;

namespace NoKv.Storage.Cache;

/// <summary>
/// One shard of the <see cref="BlockCache"/>: an LRU list + map holding a share of the capacity, and a short
/// free list of nodes whose buffers are reused for the next blocks read into this shard, so a steady stream
/// of misses (read, insert, evict the oldest) allocates nothing.
/// Every member is guarded by <see cref="Lock"/> (taken inside the methods, and by the cache for statistics).
/// </summary>
internal sealed class BlockCacheShard
{
    // Buffers are sized in these steps, so a recycled buffer fits the next block of about the same size.
    private const int BufferGranule = 256;

    // A free buffer is reused for a block at most this much smaller (beyond that it would waste capacity).
    private const int MaxReuseSlack = 1024;

    private const int MaxFreeNodes = 8;

    private readonly Dictionary<BlockCacheKey, BlockCacheNode> _map = [];

    // Sentinel of the circular LRU list: _head.Next is the most recently used, _head.Prev the least.
    private readonly BlockCacheNode _head;
    private readonly long _capacity;
    private readonly long _maxFreeBytes;
    private readonly BlockCacheNode?[] _free = new BlockCacheNode?[MaxFreeNodes];
    private int _freeCount;
    private long _freeBytes;

    public BlockCacheShard(long capacity)
    {
        _capacity = capacity;

        // Free buffers are memory the capacity does not count: keep them to a small share of it.
        _maxFreeBytes = Math.Max(capacity / 16, 64 * 1024);
        _head = new BlockCacheNode(null, []);
        _head.Next = _head;
        _head.Prev = _head;
    }

    public Lock Lock { get; } = new();

    public long Usage { get; private set; }

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public long Inserts { get; private set; }

    public long Evictions { get; private set; }

    public int Count => _map.Count;

    /// <summary>Finds a cached block and adds a reference for the caller, who must release it.</summary>
    public bool TryGet(BlockCacheKey key, [NotNullWhen(true)] out BlockCacheNode? node)
    {
        lock (Lock)
        {
            if (_map.TryGetValue(key, out node))
            {
                Hits++;
                Unlink(node);
                PushFront(node);
                node.AddRef();
                return true;
            }

            Misses++;
            node = null;
            return false;
        }
    }

    /// <summary>A node (one reference, the caller's) whose buffer holds at least <paramref name="size"/> bytes.</summary>
    public BlockCacheNode Rent(int size)
    {
        lock (Lock)
        {
            for (int i = _freeCount - 1; i >= 0; i--)
            {
                BlockCacheNode candidate = _free[i]!;
                int length = candidate.Buffer.Length;
                if (length >= size && length - size <= MaxReuseSlack)
                {
                    _free[i] = _free[_freeCount - 1];
                    _free[--_freeCount] = null;
                    _freeBytes -= length;
                    candidate.ResetRefs(1);
                    return candidate;
                }
            }
        }

        int rounded = (int)Math.Min(((long)size + BufferGranule - 1) / BufferGranule * BufferGranule, Array.MaxLength);
        // On the pinned object heap: a cached buffer lives long (it is recycled, not freed), so on the ordinary
        // heap every one was copied from gen 0 to gen 1 to gen 2 while the cache warmed, tens of MiB of copying
        // inside blocking collections that stop every reader. The pinned heap is never compacted or copied.
        var node = new BlockCacheNode(this, GC.AllocateUninitializedArray<byte>(Math.Max(rounded, size), pinned: true));
        node.ResetRefs(1);
        return node;
    }

    /// <summary>
    /// Adds or replaces the block at <paramref name="key"/> with <paramref name="node"/> (rented from this shard),
    /// taking a reference of the cache's own; the caller keeps its reference. Evicts LRU blocks to stay in bounds.
    /// A node larger than the shard's capacity is not cached.
    /// </summary>
    public void Insert(BlockCacheKey key, BlockCacheNode node)
    {
        if (node.Charge > _capacity)
        {
            return;
        }

        lock (Lock)
        {
            if (_map.Remove(key, out BlockCacheNode? existing))
            {
                Drop(existing);
            }

            node.Key = key;
            node.InCache = true;
            node.AddRef();
            _map.Add(key, node);
            PushFront(node);
            Usage += node.Charge;
            Inserts++;

            while (Usage > _capacity)
            {
                BlockCacheNode victim = _head.Prev;
                _map.Remove(victim.Key);
                Drop(victim);
                Evictions++;
            }
        }
    }

    public void Erase(BlockCacheKey key)
    {
        lock (Lock)
        {
            if (_map.Remove(key, out BlockCacheNode? node))
            {
                Drop(node);
            }
        }
    }

    /// <summary>Called by <see cref="BlockCacheNode.Release"/> when the last reference is gone.</summary>
    public void Recycle(BlockCacheNode node)
    {
        lock (Lock)
        {
            RecycleLocked(node);
        }
    }

    /// <summary>REQUIRES: lock held; node already out of the map. Unlinks it and drops the cache's reference.</summary>
    private void Drop(BlockCacheNode node)
    {
        Unlink(node);
        node.InCache = false;
        Usage -= node.Charge;
        if (node.DropReference())
        {
            RecycleLocked(node);
        }
    }

    private void RecycleLocked(BlockCacheNode node)
    {
        int length = node.Buffer.Length;
        if (_freeCount < MaxFreeNodes && _freeBytes + length <= _maxFreeBytes)
        {
            _free[_freeCount++] = node;
            _freeBytes += length;
        }

        // Otherwise the node and its buffer are left to the GC.
    }

    private static void Unlink(BlockCacheNode node)
    {
        node.Prev.Next = node.Next;
        node.Next.Prev = node.Prev;
    }

    private void PushFront(BlockCacheNode node)
    {
        node.Next = _head.Next;
        node.Prev = _head;
        _head.Next.Prev = node;
        _head.Next = node;
    }
}
