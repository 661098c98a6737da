using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class ConcurrencyTests
{
    private static byte[] B(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    /// <param name="eagerReadCompactions">Budgets of one seek and a sample every 256 bytes, so reads keep queueing compactions between the size-triggered ones.</param>
    /// <param name="pread">Tables read with positional reads into a block cache of a few blocks, so cached blocks are evicted and their buffers reused for other blocks while readers and iterators hold them.</param>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Parallel_writers_and_readers_with_a_frozen_snapshot_view(bool eagerReadCompactions, bool pread)
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/cc", new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 16 << 10,
            TargetFileSizeBytes = 16 << 10,
            MaxBytesForLevelBase = 64 << 10,
            Level0CompactionTrigger = 2,
            ReadCompactionMinSeeks = eagerReadCompactions ? 1 : 100,
            ReadCompactionBytesPerSeek = eagerReadCompactions ? 1L << 40 : 16 << 10,
            ReadSamplePeriodBytes = eagerReadCompactions ? 256 : 1 << 20,
            UseMappedReads = !pread,
            BlockCacheBytes = pread ? 24 << 10 : 8 << 20,
            BlockSizeBytes = pread ? 512 : 4096,
        });
        for (int i = 0; i < 500; i++)
        {
            db.Put(B($"base{i:D4}"), B($"v{i}"));
        }

        using Snapshot snap = db.GetSnapshot();
        const int writers = 4;
        const int perWriter = 3000;
        var acknowledged = new int[writers];
        using var cts = new CancellationTokenSource();
        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var batch = new WriteBatch();
            for (int i = 0; i < perWriter; i++)
            {
                if (i % 3 == 0)
                {
                    batch.Clear();
                    batch.Put(B($"w{w}-{i:D5}"), B($"x{i}"));
                    batch.Delete(B($"base{(i + w) % 500:D4}"));
                    await db.WriteAsync(batch, i % 50 == 0 ? WriteOptions.Synced : null);
                }
                else
                {
                    db.Put(B($"w{w}-{i:D5}"), B($"x{i}"), i % 97 == 0 ? WriteOptions.Synced : null);
                }

                Volatile.Write(ref acknowledged[w], i + 1);
            }
        })).ToArray();

        var readerTasks = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var rng = new Random(r);
            while (!cts.IsCancellationRequested)
            {
                int w = rng.Next(writers);
                int done = Volatile.Read(ref acknowledged[w]);
                if (done == 0)
                {
                    continue;
                }

                int i = rng.Next(done);
                byte[]? v = db.Get(B($"w{w}-{i:D5}"));
                Assert.True(v is not null && v.AsSpan().SequenceEqual(B($"x{i}")), $"acknowledged write w{w}-{i} not readable");
            }
        })).ToArray();

        var snapshotReader = Task.Run(() =>
        {
            int rounds = 0;
            while (!cts.IsCancellationRequested || rounds < 2)
            {
                using StorageIterator it = db.NewIterator(new ReadOptions { Snapshot = snap });
                int n = 0;
                for (it.SeekToFirst(); it.Valid; it.Next(), n++)
                {
                    Assert.Equal(B($"base{n:D4}"), it.Key.ToArray());
                    Assert.Equal(B($"v{n}"), it.Value.ToArray());
                }

                Assert.Equal(500, n);
                Assert.Equal(B("v7"), db.Get(B("base0007"), new ReadOptions { Snapshot = snap }));
                rounds++;
            }

            return rounds;
        });

        await Task.WhenAll(writerTasks);
        cts.Cancel();
        await Task.WhenAll(readerTasks);
        Assert.True(await snapshotReader >= 2);

        for (int w = 0; w < writers; w++)
        {
            for (int i = 0; i < perWriter; i += 13)
            {
                Assert.Equal(B($"x{i}"), db.Get(B($"w{w}-{i:D5}")));
            }
        }

        Assert.Null(db.Get(B("base0007")));
        Assert.True(db.GetStatistics().FlushCount > 0);
    }

    [Fact]
    public async Task Concurrent_synced_writers_share_fsyncs()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/gc", new StorageOptions { FileSystem = fs });
        const int writers = 32;
        const int perWriter = 50;
        long syncsBefore = db.GetStatistics().WalSyncCount;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var batch = new WriteBatch();
            for (int i = 0; i < perWriter; i++)
            {
                batch.Clear();
                batch.Put(B($"w{w}-{i}"), B("v"));
                await db.WriteAsync(batch, WriteOptions.Synced);
            }
        })));
        long syncs = db.GetStatistics().WalSyncCount - syncsBefore;
        Assert.InRange(syncs, 1, writers * perWriter);
        for (int w = 0; w < writers; w++)
        {
            Assert.Equal(B("v"), db.Get(B($"w{w}-{perWriter - 1}")));
        }
    }

    [Fact]
    public async Task Unsynced_async_write_commits_inline_and_mixes_with_synced_writers()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/ia", new StorageOptions { FileSystem = fs });
        var batch = new WriteBatch();
        batch.Put("solo"u8, "1"u8);
        ValueTask solo = db.WriteAsync(batch);
        Assert.True(solo.IsCompletedSuccessfully, "an uncontended unsynced WriteAsync should commit on the calling thread");
        await solo;

        await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            var b = new WriteBatch();
            for (int i = 0; i < 200; i++)
            {
                b.Clear();
                b.Put(B($"m{w}-{i}"), B($"{i}"));
                await db.WriteAsync(b, (i + w) % 4 == 0 ? WriteOptions.Synced : WriteOptions.Default);
            }
        })));
        for (int w = 0; w < 16; w++)
        {
            for (int i = 0; i < 200; i += 17)
            {
                Assert.Equal(B($"{i}"), db.Get(B($"m{w}-{i}")));
            }
        }

        Assert.Equal("1"u8.ToArray(), db.Get("solo"u8));
    }
}
