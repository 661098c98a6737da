using System.Diagnostics.CodeAnalysis;
using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// One shard of the <see cref="BlockCache"/>: an LRU list + map holding a share of the capacity.
/// Every member is guarded by <see cref="Lock"/> (taken inside the methods, and by the cache for statistics).
/// </summary>
internal sealed class BlockCacheShard
{
    private readonly Dictionary<BlockCacheKey, BlockCacheNode> _map = [];

    // Sentinel of the circular LRU list: _head.Next is the most recently used, _head.Prev the least.
    private readonly BlockCacheNode _head;
    private readonly long _capacity;

    public BlockCacheShard(long capacity)
    {
        _capacity = capacity;
        _head = new BlockCacheNode(default, null!, 0);
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

    public bool TryGet(BlockCacheKey key, [NotNullWhen(true)] out Block? block)
    {
        lock (Lock)
        {
            if (_map.TryGetValue(key, out BlockCacheNode? node))
            {
                Hits++;
                Unlink(node);
                PushFront(node);
                block = node.Value;
                return true;
            }

            Misses++;
            block = null;
            return false;
        }
    }

    public void Insert(BlockCacheKey key, Block block, int charge)
    {
        if (charge > _capacity)
        {
            return;
        }

        lock (Lock)
        {
            if (_map.Remove(key, out BlockCacheNode? existing))
            {
                Unlink(existing);
                Usage -= existing.Charge;
            }

            var node = new BlockCacheNode(key, block, charge);
            _map.Add(key, node);
            PushFront(node);
            Usage += charge;
            Inserts++;

            while (Usage > _capacity)
            {
                BlockCacheNode victim = _head.Prev;
                Unlink(victim);
                _map.Remove(victim.Key);
                Usage -= victim.Charge;
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
                Unlink(node);
                Usage -= node.Charge;
            }
        }
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
