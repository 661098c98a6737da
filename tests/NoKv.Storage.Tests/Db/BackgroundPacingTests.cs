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
    public void Rate_limiter_lets_bytes_through_unpaced_and_uncharged_while_background_work_is_behind()
    {
        bool behind = true;
        var limiter = new WriteRateLimiter(1 << 20, () => behind);

        // Far past the 1 MiB burst: paced, this would sleep about 20 s.
        limiter.Acquire(20 << 20);
        Assert.Equal(TimeSpan.Zero, limiter.Waited);
        Assert.Equal(20 << 20, limiter.UnpacedBytes);

        // Caught up: pacing resumes from a bucket the unpaced bytes did not drain.
        behind = false;
        limiter.Acquire(512 << 10);
        Assert.Equal(TimeSpan.Zero, limiter.Waited);
        limiter.Acquire(1 << 20);
        Assert.True(limiter.Waited > TimeSpan.Zero);
        Assert.Equal(20 << 20, limiter.UnpacedBytes);
    }

    [Fact]
    public void A_database_whose_level_0_is_past_the_speedup_point_writes_background_output_unpaced()
    {
        // Trigger 1 and slowdown 1: a single level-0 table already counts as behind, so every flush after the first
        // (and every compaction, which starts with level 0 at the trigger) writes unpaced.
        StorageStatistics stats = FillPaced(new StorageOptions
        {
            FileSystem = new MemFileSystem(),
            MemtableSizeBytes = 64 << 10,
            BackgroundWriteBytesPerSecond = 1 << 20,
            Level0CompactionTrigger = 1,
            Level0SlowdownTrigger = 1,
            Level0StopTrigger = 8,
        });
        Assert.True(stats.BackgroundUnpacedBytes > 0, stats.ToString());
    }

    [Fact]
    public void A_database_far_from_its_level_0_triggers_paces_all_background_output()
    {
        // Speedup point 10 + (30 - 10) / 4 = 15 tables; the fill makes about 10, and no memtable waits for a free slot.
        StorageStatistics stats = FillPaced(new StorageOptions
        {
            FileSystem = new MemFileSystem(),
            MemtableSizeBytes = 128 << 10,
            MaxImmutableMemtables = 16,
            BackgroundWriteBytesPerSecond = 64 << 20,
            Level0CompactionTrigger = 10,
            Level0SlowdownTrigger = 30,
            Level0StopTrigger = 40,
        });
        Assert.Equal(0, stats.BackgroundUnpacedBytes);
        Assert.True(stats.FlushCount >= 3, stats.ToString());
    }

    [Theory]
    [InlineData(1 << 20, 20, 1000 / 16.0)] // a full 1 MiB group at the slowdown trigger: 16 MiB/s
    [InlineData(1 << 20, 28, 1000 / 8.0)] // half way to the stop trigger: half the rate
    [InlineData(1 << 20, 35, 1000.0)] // one file short of it: a sixteenth
    [InlineData(1 << 20, 40, 1000.0)] // past it (stop waits separately): still a sixteenth
    [InlineData(100, 20, 1.0)] // small groups: at least 1 ms, as before
    public void Slowdown_delays_a_group_in_proportion_to_its_bytes_and_level_0s_depth(long bytes, int l0, double expectedMs)
    {
        TimeSpan delay = Database.SlowdownDelay(bytes, l0, slowdownTrigger: 20, stopTrigger: 36);
        Assert.Equal(expectedMs, delay.TotalMilliseconds, precision: 3);
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

    /// <summary>
    /// Writes two versions of 4,000 keys (about 1.3 MiB; the second pass's tables overlap the first's, so level 0
    /// compacts by merging, not by moving tables), checks the last version of every key and returns the statistics.
    /// </summary>
    private static StorageStatistics FillPaced(StorageOptions options)
    {
        using Database db = Database.Open("/paced", options);
        for (int version = 0; version < 2; version++)
        {
            for (int i = 0; i < 4000; i++)
            {
                db.Put(Key(i), Value(i, version));
            }
        }

        db.Flush();
        AssertAll(db, 4000, version: 1);
        return db.GetStatistics();
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
