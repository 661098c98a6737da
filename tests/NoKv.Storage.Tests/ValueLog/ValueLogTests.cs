using System.Buffers;
using NoKv.Storage.Inspection;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.ValueLog;

/// <summary>
/// The value log: large values live in value files behind pointers, reads and scans see exactly the values written,
/// garbage collection relocates live values and deletes value files once nothing points into them (never while a
/// snapshot or iterator may still read them), and damaged value files give corruption errors, never wrong values.
/// </summary>
public sealed class ValueLogTests
{
    private const string Dir = "/vl";

    private static StorageOptions Options(MemFileSystem fs, int minValueBytes = 64, double gcLiveRatio = 0.5, long gcBytesPerCompaction = 64L << 20, Action<string>? log = null) => new()
    {
        FileSystem = fs,
        ValueLogMinValueBytes = minValueBytes,
        ValueLogGcLiveRatio = gcLiveRatio,
        ValueLogGcBytesPerCompaction = gcBytesPerCompaction,
        InfoLog = log,
        BlockCacheBytes = 0,
        NumLevels = 4,
    };

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    /// <summary>Value of key i in generation g: small (inline) for every fifth key, 64 bytes to 5 KiB otherwise.</summary>
    private static byte[] Value(int i, int g)
    {
        int length = i % 5 == 0 ? 10 + (i % 40) : 64 + ((i * 131) % 5000);
        byte[] v = new byte[length];
        new Random((i * 7919) + g).NextBytes(v);
        return v;
    }

    private static string[] ValueFiles(MemFileSystem fs) =>
        [.. fs.ListFiles(Dir).Where(n => n.EndsWith(".vlog", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    private static void WriteGeneration(Database db, int count, int g, Func<int, bool>? which = null)
    {
        for (int i = 0; i < count; i++)
        {
            if (which is null || which(i))
            {
                db.Put(Key(i), Value(i, g));
            }
        }
    }

    private static void CheckAll(Database db, int count, Func<int, int> generationOf, Snapshot? snapshot = null)
    {
        var options = new ReadOptions { Snapshot = snapshot };
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(Value(i, generationOf(i)), db.Get(Key(i), options));
        }

        using (StorageIterator it = db.NewIterator(options))
        {
            int i = 0;
            for (it.SeekToFirst(); it.Valid; it.Next(), i++)
            {
                Assert.Equal(Key(i), it.Key.ToArray());
                Assert.Equal(Value(i, generationOf(i)), it.Value.ToArray());
            }

            Assert.Equal(count, i);
            i = count - 1;
            for (it.SeekToLast(); it.Valid; it.Prev(), i--)
            {
                Assert.Equal(Key(i), it.Key.ToArray());
                Assert.Equal(Value(i, generationOf(i)), it.Value.ToArray());
            }

            Assert.Equal(-1, i);
        }
    }

    [Fact]
    public void Large_values_go_to_value_files_and_read_back_exactly_through_every_read_path()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            WriteGeneration(db, 400, 0);
            db.Flush();
            Assert.NotEmpty(ValueFiles(fs));
            CheckAll(db, 400, _ => 0);

            var buffer = new ArrayBufferWriter<byte>();
            Assert.True(db.TryGet(Key(7), buffer));
            Assert.Equal(Value(7, 0), buffer.WrittenSpan.ToArray());

            // Values live in the value file, not in the tables: the tables hold keys and pointers only.
            long tableBytes = fs.ListFiles(Dir).Where(n => n.EndsWith(".sst", StringComparison.Ordinal)).Sum(n => fs.GetFileLength($"{Dir}/{n}"));
            long valueBytes = ValueFiles(fs).Sum(n => fs.GetFileLength($"{Dir}/{n}"));
            Assert.True(tableBytes * 20 < valueBytes, $"tables {tableBytes} bytes, value files {valueBytes}");

            StorageStatistics stats = db.GetStatistics();
            Assert.Equal(1, stats.LiveValueFiles);
            Assert.Equal(valueBytes, stats.LiveValueFileBytes);
            Assert.Equal(0, stats.ValueFileGarbageBytes);

            // Size estimates (shard split decisions) still count the values, with the tables that point to them.
            long estimate = db.GetApproximateSize([], []);
            Assert.InRange(estimate, valueBytes * 9 / 10, (valueBytes + tableBytes) * 11 / 10);

            // Compaction carries pointers along (values are not rewritten).
            string[] before = ValueFiles(fs);
            db.CompactRange([], []);
            Assert.Equal(before, ValueFiles(fs));
            CheckAll(db, 400, _ => 0);
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            CheckAll(db, 400, _ => 0);
        }

        using DatabaseInspector inspector = DatabaseInspector.Open(Dir, fs, numLevels: 4);
        VerificationReport report = inspector.Verify();
        Assert.True(report.IsClean, string.Join("; ", report.Problems));
        Assert.Equal(1, report.ValueFilesChecked);
        Assert.Equal(320, report.ValuesChecked);
    }

    [Fact]
    public void A_value_file_whose_values_were_all_overwritten_is_deleted_once_no_snapshot_can_read_it()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        WriteGeneration(db, 300, 0);
        db.Flush();
        string first = Assert.Single(ValueFiles(fs));

        Snapshot snapshot = db.GetSnapshot();
        WriteGeneration(db, 300, 1);
        db.CompactRange([], []);

        // The snapshot still sees generation 0, so its values (and their file) stay.
        Assert.Contains(first, ValueFiles(fs));
        CheckAll(db, 300, _ => 0, snapshot);
        CheckAll(db, 300, _ => 1);

        snapshot.Dispose();
        db.CompactRange([], []);
        Assert.DoesNotContain(first, ValueFiles(fs));
        CheckAll(db, 300, _ => 1);
    }

    [Fact]
    public void An_open_iterator_keeps_the_value_files_it_may_read()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        WriteGeneration(db, 200, 0);
        db.Flush();
        string first = Assert.Single(ValueFiles(fs));
        using (StorageIterator it = db.NewIterator())
        {
            WriteGeneration(db, 200, 1);
            db.CompactRange([], []);
            db.PurgeObsoleteTablesNow();
            Assert.Contains(first, ValueFiles(fs));
            int i = 0;
            for (it.SeekToFirst(); it.Valid; it.Next(), i++)
            {
                Assert.Equal(Value(i, 0), it.Value.ToArray());
            }

            Assert.Equal(200, i);
        }

        db.PurgeObsoleteTablesNow();
        Assert.DoesNotContain(first, ValueFiles(fs));
    }

    [Fact]
    public void A_mostly_dead_value_file_has_its_live_values_relocated_and_is_deleted()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            WriteGeneration(db, 400, 0);
            db.CompactRange([], []);
            string first = Assert.Single(ValueFiles(fs));

            // Three keys in four overwritten: the first file is about a quarter live, below the 0.5 threshold. The
            // compaction that drops the dead pointers counts the garbage; a value-log compaction then rewrites the
            // table still pointing into the file, relocating its live quarter.
            WriteGeneration(db, 400, 1, i => i % 4 != 0);
            db.CompactRange([], []);
            Eventually.True(() => !ValueFiles(fs).Contains(first), () => $"value file {first} still there: {string.Join(", ", ValueFiles(fs))}");
            CheckAll(db, 400, i => i % 4 != 0 ? 1 : 0);
            Assert.True(db.GetStatistics().ValueBytesRelocated > 0);
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            CheckAll(db, 400, i => i % 4 != 0 ? 1 : 0);
        }

        using DatabaseInspector inspector = DatabaseInspector.Open(Dir, fs, numLevels: 4);
        VerificationReport report = inspector.Verify();
        Assert.True(report.IsClean, string.Join("; ", report.Problems));
        Assert.DoesNotContain(inspector.OtherFiles(), f => f.Role == "obsolete");
    }

    [Fact]
    public void Collection_relocates_at_most_its_budget_per_compaction_and_deletes_files_step_by_step()
    {
        const int Files = 8;
        const int KeysPerFile = 60;
        const long Budget = 40 << 10;
        var fs = new MemFileSystem();
        var collections = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Log(string line)
        {
            if (line.StartsWith("value-log collection:", StringComparison.Ordinal))
            {
                collections.Enqueue(line);
            }
        }

        using (Database db = Database.Open(Dir, Options(fs, gcBytesPerCompaction: Budget, log: Log)))
        {
            // One value file per flush, then one table pointing into all of them: the shape in which collecting
            // every file at once is one compaction relocating all their live values.
            for (int f = 0; f < Files; f++)
            {
                WriteGeneration(db, Files * KeysPerFile, 0, i => i / KeysPerFile == f);
                db.Flush();
            }

            db.CompactRange([], []);
            string[] first = ValueFiles(fs);
            Assert.Equal(Files, first.Length);
            long liveQuarter = first.Sum(n => fs.GetFileLength($"{Dir}/{n}")) / 4;
            Assert.True(liveQuarter > 3 * Budget, $"the live values left ({liveQuarter} bytes) must need several steps of {Budget}");

            WriteGeneration(db, Files * KeysPerFile, 1, i => i % 4 != 0);
            db.CompactRange([], []);
            Eventually.True(
                () => !ValueFiles(fs).Intersect(first).Any(),
                () => $"value files left: {string.Join(", ", ValueFiles(fs))}; collection steps: {string.Join(" | ", collections)}; " +
                      $"garbage {db.GetStatistics().ValueFileGarbageBytes} of {db.GetStatistics().LiveValueFileBytes} bytes; background error: {(db.WritesStopped.IsCompleted ? db.WritesStopped.GetAwaiter().GetResult().ToString() : "none")}");
            CheckAll(db, Files * KeysPerFile, i => i % 4 != 0 ? 1 : 0);
        }

        // Every step stayed within the budget unless it took a single file (the one that guarantees progress), and
        // the old files went over several steps rather than one.
        string[] steps = [.. collections];
        Assert.True(steps.Length >= 3, $"expected several collection steps, got: {string.Join(" | ", steps)}");
        foreach (string step in steps)
        {
            string[] words = step.Split(' ');
            long bytes = long.Parse(words[3], System.Globalization.CultureInfo.InvariantCulture);
            int files = words[8].Split(',').Length;
            Assert.True(files == 1 || bytes <= Budget, $"a step relocated {bytes} bytes from {files} files: {step}");
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            CheckAll(db, Files * KeysPerFile, i => i % 4 != 0 ? 1 : 0);
        }
    }

    [Fact]
    public void With_the_value_log_turned_off_collected_values_move_back_into_the_tables()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            WriteGeneration(db, 300, 0);
            db.CompactRange([], []);
            Assert.Single(ValueFiles(fs));
        }

        using (Database db = Database.Open(Dir, Options(fs, minValueBytes: 0, gcLiveRatio: 0.9)))
        {
            CheckAll(db, 300, _ => 0);
            WriteGeneration(db, 300, 1, i => i % 2 == 0);
            db.CompactRange([], []);
            Eventually.True(() => ValueFiles(fs).Length == 0, () => $"value files left: {string.Join(", ", ValueFiles(fs))}");
            CheckAll(db, 300, i => i % 2 == 0 ? 1 : 0);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Flipped_bytes_in_a_value_file_give_corruption_never_a_wrong_value(int seed)
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            WriteGeneration(db, 300, 0);
            db.Flush();
        }

        string file = $"{Dir}/{Assert.Single(ValueFiles(fs))}";
        var rng = new Random(seed);
        byte[] bytes = fs.ReadAllBytes(file);
        for (int n = 0; n < 3; n++)
        {
            long offset = 16 + rng.NextInt64(bytes.Length - 48);
            fs.CorruptFile(file, offset, [(byte)(bytes[offset] ^ (1 << rng.Next(8)))]);
        }

        int corruptions = 0;
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 300; i++)
            {
                try
                {
                    Assert.Equal(Value(i, 0), db.Get(Key(i)));
                }
                catch (CorruptionException e)
                {
                    Assert.Equal(file, e.Path);
                    corruptions++;
                }
            }

            int scanned = 0;
            using StorageIterator it = db.NewIterator();
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                try
                {
                    Assert.Equal(Value(scanned, 0), it.Value.ToArray());
                }
                catch (CorruptionException)
                {
                    corruptions++;
                }

                scanned++;
            }

            Assert.Equal(300, scanned);
        }

        // A flip can land in a record's key or length bytes, which only the record checksum covers.
        using DatabaseInspector inspector = DatabaseInspector.Open(Dir, fs, numLevels: 4);
        Assert.False(inspector.Verify().IsClean);
        Assert.True(corruptions > 0, "no read reported the damage");
    }

    [Fact]
    public void A_torn_or_missing_value_file_gives_corruption_never_a_wrong_value()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            WriteGeneration(db, 200, 0);
            db.Flush();
        }

        string file = $"{Dir}/{Assert.Single(ValueFiles(fs))}";
        byte[] bytes = fs.ReadAllBytes(file);
        fs.DeleteFile(file);
        using (IWritableFile torn = fs.CreateWritable(file))
        {
            torn.Append(bytes.AsSpan(0, bytes.Length / 2));
            torn.Sync();
        }

        int ok = 0;
        int corrupt = 0;
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 200; i++)
            {
                try
                {
                    Assert.Equal(Value(i, 0), db.Get(Key(i)));
                    ok++;
                }
                catch (CorruptionException e)
                {
                    Assert.Equal(file, e.Path);
                    corrupt++;
                }
            }
        }

        Assert.True(ok > 0 && corrupt > 0, $"{ok} values read, {corrupt} reported corrupt");

        fs.DeleteFile(file);
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            var e = Assert.Throws<CorruptionException>(() => db.Get(Key(1)));
            Assert.Equal(file, e.Path);
            Assert.Equal(Value(0, 0), db.Get(Key(0)));
        }
    }
}
