using System.Collections.Concurrent;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// The group commit under many writers: synchronous and asynchronous, synced and unsynced, with exclusive work
/// (Flush) in between; and a failing WAL sync, which must fail every writer waiting on it and stop later writes
/// without losing any write that was acknowledged. Every wait has a deadline.
/// </summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Fact]
    public async Task Mixed_synced_unsynced_sync_and_async_writers_all_complete_and_read_back()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/mix", new StorageOptions { FileSystem = fs, MemtableSizeBytes = 64 << 10 });
        const int threads = 24;
        const int asyncWriters = 8;
        const int perWriter = 150;

        var writers = new List<Task>();
        for (int t = 0; t < threads; t++)
        {
            int w = t;
            writers.Add(Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; i < perWriter; i++)
                    {
                        db.Put(B($"s{w:D2}-{i:D4}"), B($"v{i}"), (i + w) % 3 == 0 ? WriteOptions.Default : WriteOptions.Synced);
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default));
        }

        for (int t = 0; t < asyncWriters; t++)
        {
            int w = t;
            writers.Add(Task.Run(async () =>
            {
                var batch = new WriteBatch();
                for (int i = 0; i < perWriter; i++)
                {
                    batch.Clear();
                    batch.Put(B($"a{w:D2}-{i:D4}"), B($"v{i}"));
                    await db.WriteAsync(batch, i % 2 == 0 ? WriteOptions.Synced : WriteOptions.Default);
                }
            }));
        }

        // Exclusive work between groups while they run (memtable switches come from the small memtable too).
        Task all = Task.WhenAll(writers);
        int flushes = 0;
        while (!all.IsCompleted && flushes < 5)
        {
            await Task.Run(db.Flush);
            flushes++;
        }

        await all.WaitAsync(Deadline);
        for (int w = 0; w < threads; w++)
        {
            for (int i = 0; i < perWriter; i++)
            {
                Assert.Equal(B($"v{i}"), db.Get(B($"s{w:D2}-{i:D4}")));
            }
        }

        for (int w = 0; w < asyncWriters; w++)
        {
            for (int i = 0; i < perWriter; i++)
            {
                Assert.Equal(B($"v{i}"), db.Get(B($"a{w:D2}-{i:D4}")));
            }
        }

        Assert.True(db.GetStatistics().WalSyncCount > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task A_failed_wal_sync_fails_every_waiting_writer_stops_writes_and_loses_no_acknowledged_write(int seed)
    {
        var rng = new Random(seed);
        var mem = new MemFileSystem();
        int failAt = 5 + rng.Next(60);
        var injector = new NthOperationFaultInjector(FileOperation.Sync, failAt, FaultAction.Fail, sticky: true, pathContains: ".log");
        var fs = new FaultInjectingFileSystem(mem, injector);
        var acknowledged = new ConcurrentBag<string>();
        var failures = new ConcurrentBag<Exception>();
        const int threads = 16;
        Database db = Database.Open("/fail", new StorageOptions { FileSystem = fs });
        try
        {
            var writers = new Task[threads];
            for (int t = 0; t < threads; t++)
            {
                int w = t;
                writers[t] = Task.Factory.StartNew(
                    () =>
                    {
                        // Each writer writes until the fault reaches it: every one must get an error, none may hang.
                        for (int i = 0; ; i++)
                        {
                            string key = $"k{w:D2}-{i:D5}";
                            try
                            {
                                db.Put(B(key), B(key), WriteOptions.Synced);
                            }
                            catch (IOException e)
                            {
                                failures.Add(e);
                                return;
                            }

                            acknowledged.Add(key);
                        }
                    },
                    CancellationToken.None,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default);
            }

            await Task.WhenAll(writers).WaitAsync(Deadline);
            Assert.Equal(threads, failures.Count);
            Assert.True(injector.Injected > 0, $"seed {seed}: the sync fault was never injected");
            Assert.Throws<IOException>(() => db.Put("later"u8, "x"u8));
            Assert.Throws<IOException>(() => db.Put("later"u8, "x"u8, WriteOptions.Synced));
        }
        finally
        {
            try
            {
                db.Dispose();
            }
            catch (IOException)
            {
                // Closing a database whose disk is failing may fail too.
            }
        }

        // Power loss now: only synced bytes survive. Every acknowledged synced write must be there.
        using Database reopened = Database.Open("/fail", new StorageOptions { FileSystem = mem.CrashClone() });
        foreach (string key in acknowledged)
        {
            Assert.True(reopened.Get(B(key)) is { } v && v.AsSpan().SequenceEqual(B(key)), $"seed {seed}: acknowledged synced write {key} lost");
        }

        Assert.Null(reopened.Get("later"u8));
    }
}
