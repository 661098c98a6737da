using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// Caches parsed table blocks, bounded in bytes (each block is charged its buffer size), evicting the least
/// recently used. Split into shards, each with its own lock and LRU list and an equal share of the
/// capacity, so concurrent readers rarely contend; the total usage never exceeds the capacity.
/// </summary>
/// <remarks>
/// Thread-safe. Lookups and inserts hold only their shard's lock, for a dictionary operation and a list
/// splice; no I/O ever happens under a cache lock, so readers never wait on a disk read or on compaction.
/// Blocks live in <see cref="BlockCacheNode"/>s, reference counted: every reader holds a reference while it
/// uses a block (a point read until it copied the value out, an iterator while it is positioned in the block),
/// the cache one while the block is cached. Eviction only drops the cache's reference; the last release puts
/// the node's buffer on its shard's free list, and the next block read into that shard reuses it. So reads
/// that miss allocate nothing once the cache is warm (blocks were fresh GC arrays before: a gen-0 allocation,
/// its zeroed memory and its GC work per miss, the largest cost of a missed point read), and nothing is freed
/// while used. A block larger than one shard's capacity is not cached.
/// </remarks>
public sealed class BlockCache
{
    private readonly BlockCacheShard[] _shards;
    private readonly int _shardShift;
    private long _nextCacheId;

    /// <param name="capacityBytes">Memory bound; 0 makes a cache that holds nothing (but still counts misses).</param>
    /// <param name="shardCount">Power of two; 0 picks one from the capacity (at least 256 KiB per shard, at most 64 shards).</param>
    public BlockCache(long capacityBytes, int shardCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        if (shardCount == 0)
        {
            shardCount = 1;
            while (shardCount < 64 && capacityBytes / (shardCount * 2) >= 256 * 1024)
            {
                shardCount *= 2;
            }
        }

        if (shardCount < 1 || !BitOperations.IsPow2(shardCount))
        {
            throw new ArgumentException($"shardCount must be a power of two, was {shardCount}.", nameof(shardCount));
        }

        CapacityBytes = capacityBytes;
        _shards = new BlockCacheShard[shardCount];
        for (int i = 0; i < shardCount; i++)
        {
            _shards[i] = new BlockCacheShard(capacityBytes / shardCount);
        }

        _shardShift = 64 - BitOperations.Log2((uint)shardCount);
    }

    public long CapacityBytes { get; }

    public int ShardCount => _shards.Length;

    /// <summary>A fresh id for callers whose tables have no unique number of their own.</summary>
    public ulong NewCacheId() => (ulong)Interlocked.Increment(ref _nextCacheId) | (1UL << 63);

    public BlockCacheStatistics GetStatistics()
    {
        long hits = 0, misses = 0, inserts = 0, evictions = 0, usage = 0, entries = 0;
        foreach (BlockCacheShard shard in _shards)
        {
            lock (shard.Lock)
            {
                hits += shard.Hits;
                misses += shard.Misses;
                inserts += shard.Inserts;
                evictions += shard.Evictions;
                usage += shard.Usage;
                entries += shard.Count;
            }
        }

        return new BlockCacheStatistics(hits, misses, inserts, evictions, usage, CapacityBytes, entries);
    }

    /// <summary>The cached block at (cacheId, offset) with a reference for the caller, who must release it.</summary>
    internal bool TryGet(ulong cacheId, long offset, [NotNullWhen(true)] out BlockCacheNode? node)
    {
        var key = new BlockCacheKey(cacheId, offset);
        return ShardFor(key).TryGet(key, out node);
    }

    /// <summary>
    /// A node to read the block at (cacheId, offset) into: its buffer holds at least <paramref name="size"/>
    /// bytes (a recycled one when the shard has one). The caller owns its one reference and releases it, whether
    /// or not it inserts the node.
    /// </summary>
    internal BlockCacheNode Rent(ulong cacheId, long offset, int size) => ShardFor(new BlockCacheKey(cacheId, offset)).Rent(size);

    /// <summary>
    /// Adds or replaces the block at (cacheId, offset) with <paramref name="node"/>, rented for that key and
    /// holding its parsed block; the cache takes a reference of its own, and evicts LRU blocks to stay in bounds.
    /// </summary>
    internal void Insert(ulong cacheId, long offset, BlockCacheNode node)
    {
        var key = new BlockCacheKey(cacheId, offset);
        BlockCacheShard shard = ShardFor(key);
        if (!ReferenceEquals(node.Shard, shard))
        {
            throw new ArgumentException("A node must be inserted under the key it was rented for.", nameof(node));
        }

        shard.Insert(key, node);
    }

    /// <summary>Drops the block at (cacheId, offset) if cached.</summary>
    internal void Erase(ulong cacheId, long offset)
    {
        var key = new BlockCacheKey(cacheId, offset);
        ShardFor(key).Erase(key);
    }

    private BlockCacheShard ShardFor(BlockCacheKey key) =>
        _shardShift == 64 ? _shards[0] : _shards[(int)(key.Hash >> _shardShift)];
}
