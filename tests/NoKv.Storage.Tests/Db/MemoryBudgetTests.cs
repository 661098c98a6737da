using NoKv.Storage.Db;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// StorageOptions.MemoryBudgetBytes: write buffers, block cache and table metadata together stay within it, and a
/// database run under a small budget keeps to its shares while reading and writing correctly.
/// </summary>
public sealed class MemoryBudgetTests
{
    [Theory]
    [InlineData(1L << 20)]
    [InlineData(64L << 20)]
    [InlineData(1L << 30)]
    [InlineData(16L << 30)]
    public void SharesAddUpToAtMostTheBudget(long budget)
    {
        var options = new StorageOptions { MemoryBudgetBytes = budget };
        MemoryBudget sizes = MemoryBudget.From(options);

        Assert.True(sizes.Total(options.MaxImmutableMemtables) <= budget, $"{sizes} exceeds {budget}");
        Assert.True(sizes.MemtableBytes <= options.MemtableSizeBytes);
        Assert.True(sizes.BlockCacheBytes <= options.BlockCacheBytes);
        Assert.True(sizes.TableCacheBytes > 0 && sizes.PinnedTableBytes > 0);
    }

    [Fact]
    public void SmallerExplicitSizesStillCap()
    {
        var options = new StorageOptions { MemoryBudgetBytes = 1L << 30, MemtableSizeBytes = 4 << 20, BlockCacheBytes = 8 << 20 };
        MemoryBudget sizes = MemoryBudget.From(options);
        Assert.Equal(4 << 20, sizes.MemtableBytes);
        Assert.Equal(8 << 20, sizes.BlockCacheBytes);
    }

    [Fact]
    public void WithoutABudgetTheExplicitSizesApplyAndTableMetadataHasNoByteBound()
    {
        var options = new StorageOptions { MemtableSizeBytes = 3 << 20, BlockCacheBytes = 5 << 20 };
        Assert.Equal(new MemoryBudget(3 << 20, 5 << 20, 0, 0), MemoryBudget.From(options));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData((1L << 20) - 1)]
    public void BudgetBelowOneMebibyteIsRejected(long budget)
    {
        var e = Assert.Throws<ArgumentException>(() => Database.Open("/db", new StorageOptions { FileSystem = new MemFileSystem(), MemoryBudgetBytes = budget }));
        Assert.Contains(nameof(StorageOptions.MemoryBudgetBytes), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DatabaseUnderASmallBudgetKeepsToItsShares()
    {
        const long budget = 1L << 20;
        var fs = new MemFileSystem();
        var options = new StorageOptions
        {
            FileSystem = fs,
            MemoryBudgetBytes = budget,
            TargetFileSizeBytes = 8 << 10,
            BlockSizeBytes = 512,
            MaxBytesForLevelBase = 64 << 10,
            NumLevels = 4,

            // Index and filter blocks of all tables together (about 200 KiB here) exceed the metadata share
            // (about 150 KiB), and positional reads go through the block cache, so every bound is exercised.
            BloomBitsPerKey = 24,
            UseMappedReads = false,
        };
        MemoryBudget expected = MemoryBudget.From(options);
        var random = new Random(5);
        var model = new Dictionary<string, byte[]>();
        using var db = Database.Open("/db", options);
        for (int i = 0; i < 60_000; i++)
        {
            string key = $"key{random.Next(40_000):D5}";
            byte[] value = new byte[random.Next(10, 120)];
            random.NextBytes(value);
            db.Put(System.Text.Encoding.ASCII.GetBytes(key), value);
            model[key] = value;
        }

        db.Flush();
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var (key, value) in model)
            {
                Assert.Equal(value, db.Get(System.Text.Encoding.ASCII.GetBytes(key)));
            }
        }

        StorageStatistics stats = db.GetStatistics();
        Assert.True(stats.FlushCount > 5, $"only {stats.FlushCount} flushes: the memtable did not follow the budget");
        Assert.Equal(expected.MemtableBytes, stats.MemtableLimitBytes);
        Assert.Equal(expected.BlockCacheBytes, stats.BlockCacheCapacityBytes);
        Assert.True(stats.BlockCacheUsageBytes <= stats.BlockCacheCapacityBytes);
        Assert.True(stats.TableCacheBytes <= expected.TableCacheBytes, $"table cache holds {stats.TableCacheBytes} bytes, share {expected.TableCacheBytes}");
        Assert.True(stats.PinnedTableBytes <= expected.PinnedTableBytes, $"pins hold {stats.PinnedTableBytes} bytes, share {expected.PinnedTableBytes}");
        Assert.True(stats.BlockCacheUsageBytes > 0, "reads did not go through the block cache");
        long metadata = 0;
        foreach (string name in fs.ListFiles("/db").Where(n => n.EndsWith(".sst", StringComparison.Ordinal)))
        {
            IRandomAccessFile file;
            try
            {
                file = fs.OpenRandomAccess("/db/" + name);
            }
            catch (FileNotFoundException)
            {
                // A background compaction replaced it since the listing: it holds no memory any more.
                continue;
            }

            using var table = NoKv.Storage.Sstable.TableReader.Open(file, 0, new NoKv.Storage.Sstable.TableOptions { Comparer = NoKv.Storage.Sstable.InternalKeyComparer.Instance }, cache: null);
            metadata += table.MemoryBytes;
        }

        Assert.True(metadata > expected.TableCacheBytes + expected.PinnedTableBytes, $"all tables' metadata ({metadata} bytes) fits the share: the bound was never tested");
    }
}
