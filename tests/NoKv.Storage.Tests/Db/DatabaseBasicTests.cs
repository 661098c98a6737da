using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class DatabaseBasicTests
{
    private const string Dir = "/db";

    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static StorageOptions Options(MemFileSystem fs, long memtable = 64 << 10) => new()
    {
        FileSystem = fs,
        MemtableSizeBytes = memtable,
        TargetFileSizeBytes = 32 << 10,
        MaxBytesForLevelBase = 128 << 10,
    };

    [Fact]
    public void Put_get_delete_survive_flush_and_reopen()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            db.Put(B("a"), B("1"));
            db.Put(B("b"), B("2"));
            db.Delete(B("a"));
            Assert.Null(db.Get(B("a")));
            Assert.Equal(B("2"), db.Get(B("b")));
            db.Flush();
            Assert.Equal(B("2"), db.Get(B("b")));
            db.Put(B("c"), B("3"));
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            Assert.Null(db.Get(B("a")));
            Assert.Equal(B("2"), db.Get(B("b")));
            Assert.Equal(B("3"), db.Get(B("c")));
            Assert.Equal(1, db.GetStatistics().Levels[0].FileCount + db.GetStatistics().Levels.Skip(1).Sum(l => l.FileCount) - 1);
        }
    }

    [Fact]
    public void Many_writes_flush_in_background_and_read_back_in_order()
    {
        var fs = new MemFileSystem();
        const int n = 5000;
        using (Database db = Database.Open(Dir, Options(fs, memtable: 16 << 10)))
        {
            for (int i = 0; i < n; i++)
            {
                db.Put(B($"key{i:D6}"), B($"value{i}"));
            }

            for (int i = 0; i < n; i += 7)
            {
                Assert.Equal(B($"value{i}"), db.Get(B($"key{i:D6}")));
            }

            Assert.True(db.GetStatistics().FlushCount > 0);
        }

        using (Database db = Database.Open(Dir, Options(fs, memtable: 16 << 10)))
        {
            using StorageIterator it = db.NewIterator();
            int i = 0;
            for (it.SeekToFirst(); it.Valid; it.Next(), i++)
            {
                Assert.Equal(B($"key{i:D6}"), it.Key.ToArray());
            }

            Assert.Equal(n, i);
            i = n - 1;
            for (it.SeekToLast(); it.Valid; it.Prev(), i--)
            {
                Assert.Equal(B($"key{i:D6}"), it.Key.ToArray());
            }

            Assert.Equal(-1, i);
        }
    }

    [Fact]
    public void Physical_database_round_trips_and_is_locked()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nokv-db-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (Database db = Database.Open(dir))
            {
                Assert.Throws<StorageLockedException>(() => Database.Open(dir));
                db.Put(B("k"), B("v"), WriteOptions.Synced);
                db.Flush();
                db.Put(B("k2"), B("v2"));
            }

            using (Database db = Database.Open(dir))
            {
                Assert.Equal(B("v"), db.Get(B("k")));
                Assert.Equal(B("v2"), db.Get(B("k2")));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Empty_keys_empty_values_and_large_values_round_trip()
    {
        var fs = new MemFileSystem();
        byte[] big = new byte[3 << 20];
        new Random(1).NextBytes(big);
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            db.Put([], B("empty-key"));
            db.Put(B("empty-value"), []);
            db.Put(B("big"), big, WriteOptions.Synced);
            Assert.Equal(B("empty-key"), db.Get([]));
            Assert.Equal(Array.Empty<byte>(), db.Get(B("empty-value")));
            Assert.Equal(big, db.Get(B("big")));
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            Assert.Equal(big, db.Get(B("big")));
            db.Flush();
            Assert.Equal(big, db.Get(B("big")));
            Assert.Equal(B("empty-key"), db.Get([]));
            Assert.Equal(Array.Empty<byte>(), db.Get(B("empty-value")));
            using StorageIterator it = db.NewIterator();
            it.SeekToFirst();
            Assert.True(it.Valid);
            Assert.Equal(0, it.Key.Length);
        }
    }

    [Fact]
    public void Lock_held_by_another_open_file_description_fails_open_clearly()
    {
        // An exclusive open of LOCK outside the engine is what another process holding the database looks
        // like to the OS (the engine's in-process registry does not know about it).
        string dir = Path.Combine(Path.GetTempPath(), "nokv-lock-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using (new FileStream(Path.Combine(dir, "LOCK"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                var e = Assert.Throws<StorageLockedException>(() => Database.Open(dir));
                Assert.Equal(Path.Combine(dir, "LOCK"), e.Path);
                Assert.Contains("held by another process", e.Message);
            }

            using Database db = Database.Open(dir);
            db.Put(B("k"), B("v"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
