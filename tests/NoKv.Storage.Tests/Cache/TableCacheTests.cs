using NoKv.Storage.Cache;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Cache;

public class TableCacheTests
{
    private const int Tables = 24;
    private const int KeysPerTable = 300;

    [Fact]
    public void KeepsAtMostCapacityTablesOpen()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, new BlockCache(1 << 20), capacity: 8);
        for (int round = 0; round < 3; round++)
        {
            for (long file = 1; file <= Tables; file++)
            {
                Assert.True(cache.TryGet(file, Key(file, 5), out _, out ReadOnlySpan<byte> value));
                Assert.True(value.SequenceEqual(Value(file, 5)));
                Assert.True(fs.OpenHandles <= 8, $"{fs.OpenHandles} open handles");
            }
        }

        TableCacheStatistics stats = cache.GetStatistics();
        Assert.True(stats.OpenTables <= 8);
        Assert.True(stats.Evictions >= Tables * 3 - 8);
        Assert.Equal(fs.Opens, (int)stats.Misses);
    }

    [Fact]
    public void ByteBoundKeepsOpenIndexAndFilterMemoryUnderIt()
    {
        (CountingFileSystem fs, _) = BuildTables();
        long oneTable;
        using (var probe = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 100))
        {
            Assert.True(probe.TryGet(1, Key(1, 0), out _, out _));
            oneTable = probe.GetStatistics().OpenTableBytes;
        }

        Assert.True(oneTable > 0);
        long bound = (oneTable * 5) + (oneTable / 2);
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 100, memoryCapacityBytes: bound);
        for (int round = 0; round < 2; round++)
        {
            for (long file = 1; file <= Tables; file++)
            {
                Assert.True(cache.TryGet(file, Key(file, 7), out _, out ReadOnlySpan<byte> value));
                Assert.True(value.SequenceEqual(Value(file, 7)));
                TableCacheStatistics now = cache.GetStatistics();
                Assert.True(now.OpenTableBytes <= bound, $"{now.OpenTableBytes} open bytes over the bound {bound}");
                Assert.True(now.OpenTables <= 5, $"{now.OpenTables} tables open under a bound of five tables' bytes");
            }
        }

        TableCacheStatistics stats = cache.GetStatistics();
        Assert.True(stats.Evictions >= (Tables * 2) - 5);
        Assert.True(fs.OpenHandles <= 5);

        // Evicting everything by hand brings the count of open bytes back to zero: nothing leaks in the books.
        for (long file = 1; file <= Tables; file++)
        {
            cache.Evict(file);
        }

        Assert.Equal(0, cache.GetStatistics().OpenTableBytes);
    }

    [Fact]
    public void TableLargerThanTheByteBoundIsStillServed()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 100, memoryCapacityBytes: 1);
        for (long file = 1; file <= 4; file++)
        {
            Assert.True(cache.TryGet(file, Key(file, 3), out _, out _));
            Assert.Equal(1, cache.GetStatistics().OpenTables);
        }
    }

    [Fact]
    public void RepeatedLookupsHitWithoutReopening()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 100);
        for (int i = 0; i < 50; i++)
        {
            Assert.True(cache.TryGet(3, Key(3, i), out _, out _));
        }

        Assert.Equal(1, fs.Opens);
        TableCacheStatistics stats = cache.GetStatistics();
        Assert.Equal(49, stats.Hits);
        Assert.Equal(1, stats.Misses);
    }

    [Fact]
    public void EvictsTheLeastRecentlyUsedTable()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 4);
        for (long file = 1; file <= 4; file++)
        {
            Assert.True(cache.TryGet(file, Key(file, 0), out _, out _));
        }

        Assert.True(cache.TryGet(1, Key(1, 1), out _, out _));
        Assert.True(cache.TryGet(5, Key(5, 0), out _, out _));
        int opens = fs.Opens;

        // Table 2 was the least recently used: it is the one that has to be reopened.
        Assert.True(cache.TryGet(1, Key(1, 2), out _, out _));
        Assert.True(cache.TryGet(3, Key(3, 2), out _, out _));
        Assert.Equal(opens, fs.Opens);
        Assert.True(cache.TryGet(2, Key(2, 2), out _, out _));
        Assert.Equal(opens + 1, fs.Opens);
        Assert.Equal(4, cache.GetStatistics().OpenTables);
    }

    [Fact]
    public void ReadersRacingWithEvictionNeverSeeAClosedTable()
    {
        const int seed = 5150;
        (CountingFileSystem fs, _) = BuildTables();
        var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, new BlockCache(1 << 20), capacity: 6);
        int errors = 0;
        using var stop = new CancellationTokenSource();
        var evictor = new Thread(() =>
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                cache.Evict(random.Next(1, Tables + 1));
            }
        });
        evictor.Start();

        var readers = new Thread[3];
        for (int t = 0; t < readers.Length; t++)
        {
            int threadSeed = seed + 1 + t;
            readers[t] = new Thread(() =>
            {
                var random = new Random(threadSeed);
                for (int i = 0; i < 4000; i++)
                {
                    long file = random.Next(1, Tables + 1);
                    int k = random.Next(KeysPerTable);
                    try
                    {
                        if (i % 20 == 0)
                        {
                            using IInternalIterator it = cache.NewIterator(file, fillCache: false);
                            it.Seek(Key(file, k));
                            if (!it.Valid || !it.Key.SequenceEqual(Key(file, k)))
                            {
                                Interlocked.Increment(ref errors);
                            }
                        }
                        else if (!cache.TryGet(file, Key(file, k), out _, out ReadOnlySpan<byte> value) || !value.SequenceEqual(Value(file, k)))
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            });
            readers[t].Start();
        }

        foreach (Thread reader in readers)
        {
            Assert.True(reader.Join(TimeSpan.FromMinutes(1)), "reader did not finish");
        }

        stop.Cancel();
        Assert.True(evictor.Join(TimeSpan.FromMinutes(1)), "evictor did not finish");
        Assert.True(errors == 0, $"seed={seed} errors={errors}");
        cache.Dispose();
        Assert.Equal(0, fs.OpenHandles);
    }

    [Fact]
    public void EvictedTableInUseClosesOnlyWhenReleased()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 2);
        IInternalIterator it = cache.NewIterator(1);
        it.SeekToFirst();
        for (long file = 2; file <= 6; file++)
        {
            Assert.True(cache.TryGet(file, Key(file, 0), out _, out _));
        }

        // Table 1 was evicted but its iterator still reads from an open file.
        int count = 0;
        for (; it.Valid; it.Next())
        {
            Assert.True(it.Key.SequenceEqual(Key(1, count)));
            count++;
        }

        Assert.Equal(KeysPerTable, count);
        int before = fs.OpenHandles;
        it.Dispose();
        it.Dispose();
        Assert.Equal(before - 1, fs.OpenHandles);
        Assert.Throws<ObjectDisposedException>(it.SeekToFirst);
    }

    [Fact]
    public void EvictClosesAnUnusedTable()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 10);
        Assert.True(cache.TryGet(4, Key(4, 1), out _, out _));
        Assert.Equal(1, fs.OpenHandles);
        cache.Evict(4);
        Assert.Equal(0, fs.OpenHandles);
        cache.Evict(4);
        Assert.True(cache.TryGet(4, Key(4, 1), out _, out _));
        Assert.Equal(2, fs.Opens);
    }

    [Fact]
    public void MissingTableThrowsAndCachesNothing()
    {
        (CountingFileSystem fs, _) = BuildTables();
        using var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 10);
        Assert.ThrowsAny<IOException>(() => cache.TryGet(999, Key(1, 1), out _, out _));
        Assert.Equal(0, cache.GetStatistics().OpenTables);
    }

    [Fact]
    public void DisposeClosesEveryTable()
    {
        (CountingFileSystem fs, _) = BuildTables();
        var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, null, capacity: 50);
        for (long file = 1; file <= Tables; file++)
        {
            Assert.True(cache.TryGet(file, Key(file, 1), out _, out _));
        }

        Assert.Equal(Tables, fs.OpenHandles);
        cache.Dispose();
        Assert.Equal(0, fs.OpenHandles);
        Assert.Throws<ObjectDisposedException>(() => cache.TryGet(1, Key(1, 1), out _, out _));
    }

    [Fact]
    public void ConcurrentReadersWithChurnGetCorrectValues()
    {
        const int seed = 2024;
        (CountingFileSystem fs, _) = BuildTables();
        var blockCache = new BlockCache(64 * 1024, shardCount: 4);
        var cache = new TableCache(fs, TestTables.PathOf, TableOptions.Default, blockCache, capacity: 5);
        int errors = 0;
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int threadSeed = seed + t;
            threads[t] = new Thread(() =>
            {
                var random = new Random(threadSeed);
                for (int i = 0; i < 5000; i++)
                {
                    long file = random.Next(1, Tables + 1);
                    int k = random.Next(KeysPerTable);
                    if (i % 50 == 0)
                    {
                        using IInternalIterator it = cache.NewIterator(file);
                        it.Seek(Key(file, k));
                        for (int j = k; j < Math.Min(k + 20, KeysPerTable); j++, it.Next())
                        {
                            if (!it.Valid || !it.Key.SequenceEqual(Key(file, j)) || !it.Value.SequenceEqual(Value(file, j)))
                            {
                                Interlocked.Increment(ref errors);
                                break;
                            }
                        }
                    }
                    else if (!cache.TryGet(file, Key(file, k), out _, out ReadOnlySpan<byte> value) || !value.SequenceEqual(Value(file, k)))
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "worker did not finish");
        }

        Assert.True(errors == 0, $"seed={seed} errors={errors}");
        Assert.True(cache.GetStatistics().Evictions > 0);
        Assert.True(blockCache.GetStatistics().UsageBytes <= 64 * 1024);
        cache.Dispose();
        Assert.Equal(0, fs.OpenHandles);
    }

    private static (CountingFileSystem Fs, MemFileSystem Inner) BuildTables()
    {
        MemFileSystem inner = TestTables.NewFileSystem();
        for (long file = 1; file <= Tables; file++)
        {
            var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
            for (int i = 0; i < KeysPerTable; i++)
            {
                entries[Key(file, i)] = Value(file, i);
            }

            TestTables.Build(inner, TestTables.PathOf(file), entries, TableOptions.Default);
        }

        return (new CountingFileSystem(inner), inner);
    }

    private static byte[] Key(long file, int i) => System.Text.Encoding.ASCII.GetBytes($"t{file:D3}-k{i:D5}");

    private static byte[] Value(long file, int i) => System.Text.Encoding.ASCII.GetBytes($"value of {file}/{i} {new string('x', i % 40)}");
}
