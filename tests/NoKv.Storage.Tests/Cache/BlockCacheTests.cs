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
        Block block = MakeBlock(1, 0, 100);
        cache.Insert(1, 0, block);
        Assert.True(cache.TryGet(1, 0, out Block? found));
        Assert.Same(block, found);
        Assert.False(cache.TryGet(2, 0, out _));
        Assert.False(cache.TryGet(1, 4096, out _));

        BlockCacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1, stats.Hits);
        Assert.Equal(3, stats.Misses);
        Assert.Equal(1, stats.Inserts);
        Assert.Equal(block.Charge, stats.UsageBytes);
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
            Block block = MakeBlock((ulong)random.Next(50), i * 8192L, random.Next(100, 9000));
            cache.Insert(block.Contents[0], block.FileOffset, block);
            inserted += block.Charge;
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
        Block a = MakeBlock(1, 0, 1000);
        var cache = new BlockCache(a.Charge * 3, shardCount: 1);
        cache.Insert(1, 0, a);
        cache.Insert(1, 1, MakeBlock(1, 1, 1000));
        cache.Insert(1, 2, MakeBlock(1, 2, 1000));

        // Touch block 0 so block 1 becomes the oldest.
        Assert.True(cache.TryGet(1, 0, out _));
        cache.Insert(1, 3, MakeBlock(1, 3, 1000));

        Assert.True(cache.TryGet(1, 0, out _));
        Assert.False(cache.TryGet(1, 1, out _));
        Assert.True(cache.TryGet(1, 2, out _));
        Assert.True(cache.TryGet(1, 3, out _));
        Assert.Equal(1, cache.GetStatistics().Evictions);
    }

    [Fact]
    public void ReplacingAKeyKeepsUsageExact()
    {
        var cache = new BlockCache(1 << 20, shardCount: 1);
        cache.Insert(1, 0, MakeBlock(1, 0, 1000));
        Block second = MakeBlock(1, 0, 3000);
        cache.Insert(1, 0, second);
        Assert.Equal(second.Charge, cache.GetStatistics().UsageBytes);
        Assert.True(cache.TryGet(1, 0, out Block? found));
        Assert.Same(second, found);
    }

    [Fact]
    public void BlockLargerThanAShardIsNotCached()
    {
        var cache = new BlockCache(4096, shardCount: 1);
        cache.Insert(1, 0, MakeBlock(1, 0, 5000));
        Assert.False(cache.TryGet(1, 0, out _));
        Assert.Equal(0, cache.GetStatistics().UsageBytes);
        var empty = new BlockCache(0);
        empty.Insert(1, 0, MakeBlock(1, 0, 10));
        Assert.False(empty.TryGet(1, 0, out _));
    }

    [Fact]
    public void EvictedBlockInUseStaysIntact()
    {
        Block held = MakeBlock(7, 0, 2000);
        var cache = new BlockCache(held.Charge, shardCount: 1);
        cache.Insert(7, 0, held);
        Assert.True(cache.TryGet(7, 0, out Block? inUse));
        cache.Insert(7, 1, MakeBlock(7, 1, 2000));
        Assert.False(cache.TryGet(7, 0, out _));
        Verify(inUse, 7, 0);
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
                for (int i = 0; i < 20_000; i++)
                {
                    ulong id = (ulong)random.Next(1, 8);
                    long offset = random.Next(0, 300) * 4096L;
                    if (cache.TryGet(id, offset, out Block? block))
                    {
                        if (!IsBlockFor(block, id, offset))
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                    else
                    {
                        cache.Insert(id, offset, MakeBlock(id, offset, random.Next(200, 4000)));
                    }
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

    /// <summary>A block whose contents name (id, offset), so a wrong hit is detectable.</summary>
    private static Block MakeBlock(ulong id, long offset, int size)
    {
        size = Math.Max(size, 24);
        var data = new byte[size];
        data[0] = (byte)id;
        Fixed.Write64(data.AsSpan(4), (ulong)offset);
        Fixed.Write64(data.AsSpan(12), id);
        Fixed.Write32(data.AsSpan(size - 4), 1);
        return Block.Parse(data, size, "mem", offset);
    }

    private static bool IsBlockFor(Block block, ulong id, long offset) =>
        block.FileOffset == offset && Fixed.Read64(block.Contents[4..]) == (ulong)offset && Fixed.Read64(block.Contents[12..]) == id;

    private static void Verify(Block block, ulong id, long offset) => Assert.True(IsBlockFor(block, id, offset));
}
