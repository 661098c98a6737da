using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class CompactionTests
{
    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static StorageOptions Options(MemFileSystem fs) => new()
    {
        FileSystem = fs,
        MemtableSizeBytes = 16 << 10,
        TargetFileSizeBytes = 8 << 10,
        MaxBytesForLevelBase = 32 << 10,
        Level0CompactionTrigger = 2,
        NumLevels = 4,
    };

    private static int FileCount(Database db) => db.GetStatistics().Levels.Sum(l => l.FileCount);

    [Fact]
    public void Range_tombstone_and_covered_data_are_dropped_once_no_snapshot_needs_them()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/c", Options(fs));
        for (int i = 0; i < 2000; i++)
        {
            db.Put(K(i), new byte[50]);
        }

        db.Flush();
        Snapshot snap = db.GetSnapshot();
        db.DeleteRange(K(0), K(2000));
        db.CompactRange([], []);
        Assert.True(db.GetStatistics().LiveSstBytes > 2000 * 50, "the snapshot still needs the data");
        Assert.Equal(new byte[50], db.Get(K(1234), new ReadOptions { Snapshot = snap }));
        Assert.Null(db.Get(K(1234)));

        snap.Dispose();
        db.CompactRange([], []);
        Assert.Equal(0, FileCount(db));
        Assert.Null(db.Get(K(1234)));
        using StorageIterator it = db.NewIterator();
        it.SeekToFirst();
        Assert.False(it.Valid);
    }

    [Fact]
    public void Overwritten_versions_and_point_deletions_are_dropped()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/c", Options(fs));
        for (int round = 0; round < 30; round++)
        {
            for (int i = 0; i < 200; i++)
            {
                db.Put(K(i), System.Text.Encoding.ASCII.GetBytes($"round{round}-" + new string('x', 40)));
            }
        }

        for (int i = 100; i < 200; i++)
        {
            db.Delete(K(i));
        }

        db.CompactRange([], []);
        StorageStatistics stats = db.GetStatistics();
        Assert.True(stats.LiveSstBytes < 100 * 60 * 3, $"only 100 live keys should remain on disk, found {stats.LiveSstBytes} bytes");
        Assert.Equal(System.Text.Encoding.ASCII.GetBytes("round29-" + new string('x', 40)), db.Get(K(42)));
        Assert.Null(db.Get(K(142)));
    }

    [Fact]
    public void Background_compaction_keeps_levels_within_targets()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/c", Options(fs));
        var rng = new Random(7);
        for (int i = 0; i < 20000; i++)
        {
            db.Put(K(rng.Next(20000)), new byte[40]);
        }

        db.Flush();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        StorageStatistics stats = db.GetStatistics();
        while ((stats.Levels[0].FileCount >= 2 || stats.Levels[1].Bytes > 32 << 10 || stats.Levels[2].Bytes > 320 << 10) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
            stats = db.GetStatistics();
        }

        Assert.True(stats.CompactionCount > 0);
        Assert.True(stats.Levels[0].FileCount < 2, stats.ToString());
        Assert.True(stats.Levels[1].Bytes <= 32 << 10, stats.ToString());
        Assert.True(stats.Levels[2].Bytes <= 320 << 10, stats.ToString());
        Assert.True(stats.Levels.Skip(2).Sum(l => l.Bytes) > 0, stats.ToString());
    }

    [Fact]
    public void Raft_log_style_nested_truncations_stay_correct_through_flushes_and_compactions()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/c", Options(fs));
        static byte[] Log(int i) => System.Text.Encoding.ASCII.GetBytes($"log/{i:D6}");
        int truncated = 0;
        for (int i = 0; i < 6000; i++)
        {
            db.Put(Log(i), new byte[30]);
            if (i % 10 == 9)
            {
                truncated = i - 5;
                db.DeleteRange(Log(0), Log(truncated));
            }

            if (i % 1500 == 0)
            {
                using Snapshot snap = db.GetSnapshot();
                db.CompactRange([], []);
                Assert.NotNull(db.Get(Log(i), new ReadOptions { Snapshot = snap }));
            }
        }

        db.CompactRange([], []);
        for (int i = 0; i < 6000; i += 7)
        {
            Assert.Equal(i >= truncated, db.Get(Log(i)) is not null);
        }

        using StorageIterator it = db.NewIterator();
        it.SeekToFirst();
        Assert.Equal(Log(truncated), it.Key.ToArray());
    }
}
