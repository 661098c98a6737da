using NoKv.Storage.Db;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Background work that yields to foreground writes: flush and compaction threads at a lower CPU priority,
/// table files handed to the device as they grow, a bound on their write rate, and obsolete logs deleted a
/// few MiB at a time. None of it may change what the database stores.
/// </summary>
public sealed class BackgroundPacingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nokv-pacing-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D7}");

    private static byte[] Value(int i, int version) => System.Text.Encoding.ASCII.GetBytes($"v{version}-{i}-" + new string('x', 100 + (i % 50)));

    [Fact]
    public void Paced_background_work_on_disk_keeps_every_write_through_flushes_compactions_and_reopen()
    {
        var options = new StorageOptions
        {
            MemtableSizeBytes = 256 << 10,
            TargetFileSizeBytes = 128 << 10,
            Level0CompactionTrigger = 2,
            BackgroundThreadNice = 10,
            TableBytesPerSync = 16 << 10,
            BackgroundWriteBytesPerSecond = 64 << 20,
            LogDeleteStepBytes = 64 << 10,
        };
        const int keys = 6000;
        using (Database db = Database.Open(_dir, options))
        {
            for (int version = 0; version < 3; version++)
            {
                for (int i = 0; i < keys; i++)
                {
                    db.Put(Key(i), Value(i, version));
                }
            }

            db.Flush();
            db.CompactRange([], []);
            Assert.True(db.GetStatistics().FlushCount >= 3, "the writes should have gone through several flushes");
            AssertAll(db, keys, version: 2);
        }

        // Every log a flush made obsolete was deleted (gradually), leaving only the live one.
        Assert.Single(Directory.GetFiles(_dir, "*.log"));
        using (Database db = Database.Open(_dir, options))
        {
            AssertAll(db, keys, version: 2);
        }
    }

    [Fact]
    public void Table_writeback_hints_are_issued_as_a_table_grows_and_only_when_asked_for()
    {
        int hintsSmall = CountTableFlushes(bytesPerSync: 4 << 10);
        int hintsOff = CountTableFlushes(bytesPerSync: 0);

        // With writeback every 4 KiB, a table of a few hundred KiB hands its bytes over many times before its sync;
        // with it off, only the buffer's own flushes and the final sync remain.
        Assert.True(hintsSmall > hintsOff + 10, $"expected many more flushes of table files with bytes-per-sync set: {hintsSmall} against {hintsOff}");
    }

    [Fact]
    public void Rate_limiter_does_not_wait_within_its_burst_and_waits_once_in_debt()
    {
        var limiter = new WriteRateLimiter(100 << 20);
        limiter.Acquire(1 << 20);
        Assert.Equal(TimeSpan.Zero, limiter.Waited);

        // The burst is a tenth of a second's worth (10 MiB here): taking twice that runs into debt, which is paid by sleeping.
        limiter.Acquire(20 << 20);
        Assert.True(limiter.Waited > TimeSpan.Zero);
    }

    [Fact]
    public void Rate_limiter_rejects_a_non_positive_rate()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WriteRateLimiter(0));
    }

    [Fact]
    public void Lowering_a_thread_sets_its_nice_value_on_linux()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int? observed = null;
        int? before = null;
        var thread = new Thread(() =>
        {
            before = BackgroundThreadPriority.CurrentThreadNice();
            BackgroundThreadPriority.LowerCurrentThread(7);
            observed = BackgroundThreadPriority.CurrentThreadNice();
        });
        thread.Start();
        thread.Join();
        Assert.NotNull(before);
        Assert.Equal(Math.Max(7, before!.Value), observed);
    }

    [Fact]
    public void Nice_zero_leaves_the_thread_alone()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int? before = null, after = null;
        var thread = new Thread(() =>
        {
            before = BackgroundThreadPriority.CurrentThreadNice();
            BackgroundThreadPriority.LowerCurrentThread(0);
            after = BackgroundThreadPriority.CurrentThreadNice();
        });
        thread.Start();
        thread.Join();
        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData(10 << 20, 1 << 20)]
    [InlineData(3 << 20, 1 << 20)]
    [InlineData(100, 1 << 20)]
    [InlineData(0, 1 << 20)]
    public void Gradual_delete_on_disk_removes_the_file(int size, int step)
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "000007.log");
        File.WriteAllBytes(path, new byte[size]);

        PhysicalFileSystem.Instance.DeleteFileGradually(path, step, TimeSpan.Zero);

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Gradual_delete_of_a_missing_file_is_a_no_op_like_delete()
    {
        Directory.CreateDirectory(_dir);
        PhysicalFileSystem.Instance.DeleteFileGradually(Path.Combine(_dir, "missing.log"), 1 << 20, TimeSpan.Zero);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Gradual_delete_defaults_to_delete_on_other_file_systems()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory("/g");
        using (IWritableFile file = fs.CreateWritable("/g/1.log"))
        {
            file.Append(new byte[4096]);
            file.Sync();
        }

        ((IFileSystem)fs).DeleteFileGradually("/g/1.log", 1024, TimeSpan.Zero);

        Assert.False(fs.FileExists("/g/1.log"));
    }

    private static void AssertAll(Database db, int keys, int version)
    {
        for (int i = 0; i < keys; i++)
        {
            byte[]? value = db.Get(Key(i));
            Assert.True(value is not null, $"key {i} is missing");
            Assert.Equal(Value(i, version), value);
        }
    }

    /// <summary>Flush operations on table files while a database flushes about 600 KiB of memtable into tables.</summary>
    private static int CountTableFlushes(long bytesPerSync)
    {
        var counter = new TableFlushCounter();
        var fs = new FaultInjectingFileSystem(new MemFileSystem(), counter);
        using Database db = Database.Open("/pace", new StorageOptions { FileSystem = fs, TableBytesPerSync = bytesPerSync });
        for (int i = 0; i < 4000; i++)
        {
            db.Put(Key(i), Value(i, 0));
        }

        db.Flush();
        return counter.Count;
    }

    private sealed class TableFlushCounter : IFaultInjector
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if (operation == FileOperation.Flush && path.EndsWith(".sst", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _count);
            }

            return FaultAction.None;
        }
    }
}
