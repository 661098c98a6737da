using NoKv.Storage.Cache;
using NoKv.Storage.Encoding;
using NoKv.Storage.Sstable;
using Xunit;

namespace NoKv.Storage.Tests.Cache;

public class BlockCacheTests
{
    [Fact]
    public void CountsHitsMissesAndInserts()
    {
        var cache = new BlockCache(1 << 20);
        Assert.False(cache.TryGet(1, 0, out _));
        BlockCacheNode node = Insert(cache, 1, 0, 100);
        Assert.True(cache.TryGet(1, 0, out BlockCacheNode? found));
        Assert.Same(node, found);
        found.Release();
        Assert.False(cache.TryGet(2, 0, out _));
        Assert.False(cache.TryGet(1, 4096, out _));

        BlockCacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1, stats.Hits);
        Assert.Equal(3, stats.Misses);
        Assert.Equal(1, stats.Inserts);
        Assert.Equal(node.Charge, stats.UsageBytes);
        Assert.Equal(1, stats.Entries);
        Assert.Equal(0.25, stats.HitRate);
    }

    [Fact]
    public void UsageNeverExceedsTheByteBound()
    {
        const int seed = 17;
        var random = new Random(seed);
        const long capacity = 256 * 1024;
        var cache = new BlockCache(capacity, shardCount: 4);
        long inserted = 0;
        for (int i = 0; i < 2000; i++)
        {
            BlockCacheNode node = Insert(cache, (ulong)random.Next(50), i * 8192L, random.Next(100, 9000));
            inserted += node.Charge;
            BlockCacheStatistics stats = cache.GetStatistics();
            Assert.True(stats.UsageBytes <= capacity, $"seed={seed} i={i} usage={stats.UsageBytes}");
        }

        BlockCacheStatistics final = cache.GetStatistics();
        Assert.True(final.Evictions > 0);
        Assert.True(final.UsageBytes > capacity / 2, "cache should stay reasonably full");
        Assert.True(inserted > capacity);
    }

    [Fact]
    public void EvictsLeastRecentlyUsedFirst()
    {
        var probe = new BlockCache(1 << 20, shardCount: 1);
        int charge = Insert(probe, 9, 0, 1000).Charge;
        var cache = new BlockCache(charge * 3, shardCount: 1);
        Insert(cache, 1, 0, 1000);
        Insert(cache, 1, 1, 1000);
        Insert(cache, 1, 2, 1000);

        // Touch block 0 so block 1 becomes the oldest.
        Touch(cache, 1, 0);
        Insert(cache, 1, 3, 1000);

        Assert.True(Touch(cache, 1, 0));
        Assert.False(Touch(cache, 1, 1));
        Assert.True(Touch(cache, 1, 2));
        Assert.True(Touch(cache, 1, 3));
        Assert.Equal(1, cache.GetStatistics().Evictions);
    }

    [Fact]
    public void ReplacingAKeyKeepsUsageExact()
    {
        var cache = new BlockCache(1 << 20, shardCount: 1);
        Insert(cache, 1, 0, 1000);
        BlockCacheNode second = Insert(cache, 1, 0, 3000);
        Assert.Equal(second.Charge, cache.GetStatistics().UsageBytes);
        Assert.True(cache.TryGet(1, 0, out BlockCacheNode? found));
        Assert.Same(second, found);
        found.Release();
    }

    [Fact]
    public void BlockLargerThanAShardIsNotCached()
    {
        var cache = new BlockCache(4096, shardCount: 1);
        Insert(cache, 1, 0, 5000);
        Assert.False(cache.TryGet(1, 0, out _));
        Assert.Equal(0, cache.GetStatistics().UsageBytes);
        var empty = new BlockCache(0);
        Insert(empty, 1, 0, 10);
        Assert.False(empty.TryGet(1, 0, out _));
    }

    [Fact]
    public void EvictedBlockInUseStaysIntactUntilReleased()
    {
        var cache = new BlockCache(6000, shardCount: 1);
        Insert(cache, 7, 0, 2000);
        Assert.True(cache.TryGet(7, 0, out BlockCacheNode? inUse));
        byte[] heldBuffer = inUse.Buffer;

        // Evict block 0 while it is held, then read more blocks of the same size into the shard: none may get
        // the held buffer.
        for (int i = 1; i <= 6; i++)
        {
            Insert(cache, 7, i, 2000);
        }

        Assert.False(cache.TryGet(7, 0, out _));
        Verify(inUse.Block, 7, 0);
        for (int i = 7; i <= 12; i++)
        {
            Assert.NotSame(heldBuffer, Insert(cache, 7, i, 2000).Buffer);
        }

        Verify(inUse.Block, 7, 0);

        // Once released, the evicted block's buffer is reused for the next block read into the shard.
        inUse.Release();
        BlockCacheNode next = cache.Rent(7, 100, 2000);
        Assert.Same(heldBuffer, next.Buffer);
        next.Release();
    }

    [Fact]
    public void MissesAllocateNoBuffersOnceWarm()
    {
        var cache = new BlockCache(64 * 1024, shardCount: 1);
        var buffers = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < 2000; i++)
        {
            buffers.Add(Insert(cache, 3, i * 4096L, 4000 + (i % 7 * 13)).Buffer);
        }

        // About 15 blocks fit; the rest of the 2,000 reads reused the buffers of evicted ones.
        Assert.True(buffers.Count < 40, $"{buffers.Count} distinct buffers for 2,000 misses");
    }

    [Fact]
    public void ReleasingTooOftenThrows()
    {
        var cache = new BlockCache(1 << 20, shardCount: 1);
        BlockCacheNode node = cache.Rent(1, 0, 100);
        node.Release();
        Assert.Throws<InvalidOperationException>(node.Release);
    }

    [Fact]
    public void InsertUnderAnotherShardsKeyIsRefused()
    {
        var cache = new BlockCache(1 << 20, shardCount: 8);
        BlockCacheNode node = cache.Rent(1, 0, 100);
        ulong other = 2;
        while (ReferenceEquals(cache.Rent(other, 0, 100).Shard, node.Shard))
        {
            other++;
        }

        Assert.Throws<ArgumentException>(() => cache.Insert(other, 0, node));
    }

    [Fact]
    public void ConcurrentReadersAndInsertersSeeOnlyCorrectBlocks()
    {
        const int seed = 99;
        const long capacity = 512 * 1024;
        var cache = new BlockCache(capacity, shardCount: 8);
        int errors = 0;
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int threadSeed = seed + t;
            threads[t] = new Thread(() =>
            {
                var random = new Random(threadSeed);
                var held = new Queue<(BlockCacheNode Node, ulong Id, long Offset)>();
                for (int i = 0; i < 20_000; i++)
                {
                    ulong id = (ulong)random.Next(1, 8);
                    long offset = random.Next(0, 300) * 4096L;
                    if (!cache.TryGet(id, offset, out BlockCacheNode? node))
                    {
                        node = Fill(cache.Rent(id, offset, random.Next(200, 4000)), id, offset);
                        cache.Insert(id, offset, node);
                    }

                    // Hold a few blocks across later inserts and evictions: their contents must not change.
                    held.Enqueue((node, id, offset));
                    if (held.Count > 3)
                    {
                        (BlockCacheNode old, ulong oldId, long oldOffset) = held.Dequeue();
                        if (!IsBlockFor(old.Block, oldId, oldOffset))
                        {
                            Interlocked.Increment(ref errors);
                        }

                        old.Release();
                    }
                }

                foreach ((BlockCacheNode node, _, _) in held)
                {
                    node.Release();
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "worker did not finish");
        }

        BlockCacheStatistics stats = cache.GetStatistics();
        Assert.Equal(0, errors);
        Assert.True(stats.UsageBytes <= capacity);
        Assert.Equal(80_000, stats.Hits + stats.Misses);
        Assert.True(stats.Hits > 0 && stats.Evictions > 0, $"seed={seed}");
    }

    /// <summary>Reads a block naming (id, offset) into a rented node, caches it and releases the reader's reference.</summary>
    private static BlockCacheNode Insert(BlockCache cache, ulong id, long offset, int size)
    {
        BlockCacheNode node = Fill(cache.Rent(id, offset, Math.Max(size, 24)), id, offset, size);
        cache.Insert(id, offset, node);
        node.Release();
        return node;
    }

    private static bool Touch(BlockCache cache, ulong id, long offset)
    {
        if (!cache.TryGet(id, offset, out BlockCacheNode? node))
        {
            return false;
        }

        node.Release();
        return true;
    }

    /// <summary>Writes a block whose contents name (id, offset), so a wrong hit is detectable.</summary>
    private static BlockCacheNode Fill(BlockCacheNode node, ulong id, long offset, int size = 0)
    {
        size = Math.Max(size == 0 ? node.Buffer.Length : size, 24);
        byte[] data = node.Buffer;
        data.AsSpan(0, size).Clear();
        data[0] = (byte)id;
        Fixed.Write64(data.AsSpan(4), (ulong)offset);
        Fixed.Write64(data.AsSpan(12), id);
        Fixed.Write32(data.AsSpan(size - 4), 1);
        node.ParseBlock(size, "mem", offset);
        return node;
    }

    private static bool IsBlockFor(Block block, ulong id, long offset) =>
        block.FileOffset == offset && Fixed.Read64(block.Contents[4..]) == (ulong)offset && Fixed.Read64(block.Contents[12..]) == id;

    private static void Verify(Block block, ulong id, long offset) => Assert.True(IsBlockFor(block, id, offset));
}
