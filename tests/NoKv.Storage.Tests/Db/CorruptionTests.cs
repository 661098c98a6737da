using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>Damaged tables, logs and manifests are reported as CorruptionException, never returned as data.</summary>
public sealed class CorruptionTests
{
    private const string Dir = "/c";

    private static byte[] B(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    private static StorageOptions Options(MemFileSystem fs) => new() { FileSystem = fs, BlockCacheBytes = 0 };

    private static string Value(int i) => $"value-{i:D5}-" + new string((char)('a' + (i % 26)), 40);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Flipped_bytes_in_a_table_never_yield_wrong_data(int seed)
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 2000; i++)
            {
                db.Put(B($"k{i:D5}"), B(Value(i)));
            }

            db.Flush();
        }

        string table = fs.ListFiles(Dir).Where(n => n.EndsWith(".sst", StringComparison.Ordinal)).Select(n => Path.Combine(Dir, n)).Single();
        var rng = new Random(seed);
        long length = fs.GetFileLength(table);
        long offset = rng.NextInt64(length / 2);
        fs.CorruptFile(table, offset, [(byte)(fs.ReadAllBytes(table)[offset] ^ 0x5A)]);

        int corruptions = 0;
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 2000; i++)
            {
                try
                {
                    byte[]? v = db.Get(B($"k{i:D5}"));
                    Assert.True(v is null || v.AsSpan().SequenceEqual(B(Value(i))), $"seed {seed}: wrong value for key {i}");
                    Assert.NotNull(v);
                }
                catch (CorruptionException e)
                {
                    Assert.EndsWith(".sst", e.Path);
                    corruptions++;
                }
            }

            try
            {
                using StorageIterator it = db.NewIterator();
                int i = 0;
                for (it.SeekToFirst(); it.Valid; it.Next(), i++)
                {
                    Assert.Equal(B($"k{i:D5}"), it.Key.ToArray());
                    Assert.Equal(B(Value(i)), it.Value.ToArray());
                }

                Assert.Fail($"seed {seed}: a full scan over a damaged table (offset {offset}) reported no corruption");
            }
            catch (CorruptionException)
            {
                corruptions++;
            }
        }

        Assert.True(corruptions > 0);
    }

    [Fact]
    public void Damaged_log_record_before_intact_records_fails_open_with_the_offset()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 3000; i++)
            {
                db.Put(B($"k{i:D5}"), B(Value(i)), i % 100 == 0 ? WriteOptions.Synced : null);
            }
        }

        string log = fs.ListFiles(Dir).Where(n => n.EndsWith(".log", StringComparison.Ordinal)).Select(n => Path.Combine(Dir, n)).Single();
        Assert.True(fs.GetFileLength(log) > 3 * 32 * 1024);
        fs.CorruptFile(log, 1000, [0xFF, 0xFF, 0xFF]);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, Options(fs)));
        Assert.Equal(log, e.Path);
        Assert.InRange(e.Offset, 0, 1000);
    }

    [Fact]
    public void Torn_log_tail_after_a_crash_is_dropped_cleanly()
    {
        var fs = new MemFileSystem();
        MemFileSystem crashed;
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 100; i++)
            {
                db.Put(B($"k{i:D5}"), B(Value(i)), i == 49 ? WriteOptions.Synced : null);
            }

            // Power loss: the unsynced tail survives, then its last record is torn.
            crashed = fs.CrashClone(new KeepAllRandom());
        }

        string log = crashed.ListFiles(Dir).Where(n => n.EndsWith(".log", StringComparison.Ordinal)).Select(n => Path.Combine(Dir, n)).Single();
        byte[] bytes = crashed.ReadAllBytes(log);
        int end = bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        crashed.CorruptFile(log, end - 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        using (Database db = Database.Open(Dir, Options(crashed)))
        {
            for (int i = 0; i < 99; i++)
            {
                Assert.Equal(B(Value(i)), db.Get(B($"k{i:D5}")));
            }

            Assert.Null(db.Get(B("k00099")));
            WalRecoveryReport report = db.GetStatistics().WalRecovery;
            Assert.Equal(log, report.DamagedLog);
            Assert.True(report.DroppedBytes > 0);
        }
    }

    [Fact]
    public void Damaged_last_record_after_a_clean_close_is_corruption()
    {
        // A clean close seals the log with a synced durability mark: nothing before it may be dropped.
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (int i = 0; i < 100; i++)
            {
                db.Put(B($"k{i:D5}"), B(Value(i)));
            }
        }

        string log = fs.ListFiles(Dir).Where(n => n.EndsWith(".log", StringComparison.Ordinal)).Select(n => Path.Combine(Dir, n)).Single();
        byte[] bytes = fs.ReadAllBytes(log);
        long lastRecordEnd = bytes.Length - (7 + 17);
        fs.CorruptFile(log, lastRecordEnd - 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, Options(fs)));
        Assert.Equal(log, e.Path);
        Assert.InRange(e.Offset, lastRecordEnd - 200, lastRecordEnd - 10);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(20)]
    public void Damaged_manifest_fails_open(int offset)
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            db.Put(B("a"), B("1"));
            db.Flush();
        }

        string manifest = fs.ListFiles(Dir).Where(n => n.StartsWith("MANIFEST-", StringComparison.Ordinal)).Select(n => Path.Combine(Dir, n)).Single();
        fs.CorruptFile(manifest, offset, [(byte)(fs.ReadAllBytes(manifest)[offset] ^ 0x01)]);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, Options(fs)));
        Assert.Equal(manifest, e.Path);
    }

    [Fact]
    public void Damaged_current_file_fails_open()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            db.Put(B("a"), B("1"));
        }

        fs.CorruptFile(Path.Combine(Dir, "CURRENT"), 0, B("X"));
        Assert.Throws<CorruptionException>(() => Database.Open(Dir, Options(fs)));
    }
}
