using NoKv.Storage.Cache;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

public class TableConcurrencyTests
{
    [Fact]
    public void ManyThreadsShareOneReader()
    {
        const int seed = 77;
        var random = new Random(seed);
        SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(random, 5000, 20, 60, ByteArrayComparer.Bytewise);
        MemFileSystem fs = TestTables.NewFileSystem();
        TestTables.Build(fs, TestTables.PathOf(1), entries, TableOptions.Default);

        // A cache smaller than the table, so threads race on misses, inserts and evictions.
        var cache = new BlockCache(32 * 1024, shardCount: 2);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(1), 1, TableOptions.Default, cache);
        List<KeyValuePair<byte[], byte[]>> model = [.. entries];
        int errors = 0;
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int threadSeed = seed + t;
            threads[t] = new Thread(() =>
            {
                var r = new Random(threadSeed);
                using IInternalIterator it = reader.NewIterator();
                for (int i = 0; i < 4000; i++)
                {
                    int k = r.Next(model.Count);
                    if (!reader.TryGet(model[k].Key, out ReadOnlySpan<byte> found, out ReadOnlySpan<byte> value)
                        || !found.SequenceEqual(model[k].Key)
                        || !value.SequenceEqual(model[k].Value))
                    {
                        Interlocked.Increment(ref errors);
                    }

                    if (i % 10 == 0)
                    {
                        it.Seek(model[k].Key);
                        for (int j = k; j < Math.Min(k + 5, model.Count); j++, it.Next())
                        {
                            if (!it.Valid || !it.Key.SequenceEqual(model[j].Key))
                            {
                                Interlocked.Increment(ref errors);
                                break;
                            }
                        }
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
    }
}
