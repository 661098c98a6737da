using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Database iterators reuse parked parts (the merging iterator, level and table iterators, buffers): a short scan
/// allocates little, and parts reused across flushes, compactions, snapshots and overlapping iterators never show
/// one iterator another's view.
/// </summary>
public sealed class IteratorReuseTests
{
    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D6}");

    private static byte[] V(int i, int version) => System.Text.Encoding.ASCII.GetBytes($"value{i:D6}-v{version}-" + new string('x', 60));

    private static StorageOptions Options(IFileSystem fs) => new()
    {
        FileSystem = fs,
        MemtableSizeBytes = 64 << 10,
        TargetFileSizeBytes = 16 << 10,
        BlockSizeBytes = 1024,
        MaxBytesForLevelBase = 64 << 10,
        Level0CompactionTrigger = 8,
        Level0SlowdownTrigger = 16,
        Level0StopTrigger = 24,
        ReadTriggeredCompaction = false,
    };

    private static void Fill(Database db, int from, int to, int version)
    {
        for (int i = from; i < to; i++)
        {
            db.Put(K(i), V(i, version));
        }
    }

    /// <summary>
    /// The tree has a memtable, level-0 files and a level, so a fresh iterator would build a merging iterator, two
    /// level-0 iterators and a level iterator with their table and block iterators (about 2 KB before YCSB E's scans
    /// were pooled). Reused, a scan allocates its DbIterator and memtable iterator only.
    /// </summary>
    [Fact]
    public void A_short_scan_after_the_first_allocates_little()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/reuse", Options(fs));
        Fill(db, 0, 3000, version: 1);
        db.CompactRange([], []);
        Fill(db, 0, 500, version: 2);
        db.Flush();
        Fill(db, 500, 1000, version: 2);
        db.Flush();
        Fill(db, 1000, 1010, version: 3);
        StorageStatistics stats = db.GetStatistics();
        Assert.True(stats.Levels[0].FileCount >= 2 && stats.Levels.Any(l => l.Level > 0 && l.FileCount > 0), stats.ToString());

        byte[][] keys = [.. Enumerable.Range(0, 3000).Select(K)];
        var rng = new Random(5);
        void Scans(int count)
        {
            for (int n = 0; n < count; n++)
            {
                int start = rng.Next(2900);
                using StorageIterator it = db.NewIterator();
                it.Seek(keys[start]);
                for (int j = 0; j < 20; j++, it.Next())
                {
                    Assert.True(it.Valid && it.Key.SequenceEqual(keys[start + j]));
                }
            }
        }

        Scans(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Scans(500);
        long perScan = (GC.GetAllocatedBytesForCurrentThread() - before) / 500;

        // The DbIterator itself and a memtable iterator: about 250 bytes.
        Assert.True(perScan < 500, $"{perScan} bytes allocated per scan");
    }

    [Fact]
    public void Reused_parts_give_each_iterator_its_own_view_across_flushes_compactions_and_overlapping_iterators()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/reuse", Options(fs));
        const int Keys = 1500;
        Fill(db, 0, Keys, version: 1);
        db.CompactRange([], []);

        StorageIterator first = db.NewIterator();
        first.Seek(K(100));
        Snapshot snapshot = db.GetSnapshot();

        // Each round changes the shape (level-0 files come and go) while earlier iterators stay open.
        var open = new List<(StorageIterator It, int Version)> { (first, 1) };
        for (int version = 2; version <= 6; version++)
        {
            Fill(db, 0, Keys, version);
            if (version % 2 == 0)
            {
                db.Flush();
            }
            else
            {
                db.CompactRange([], []);
            }

            open.Add((db.NewIterator(), version));
            if (version == 4)
            {
                // Dispose the oldest and build another at once: it must not see what the disposed one saw.
                open[1].It.Dispose();
                open.RemoveAt(1);
                open.Add((db.NewIterator(), version));
            }
        }

        using (StorageIterator old = db.NewIterator(new ReadOptions { Snapshot = snapshot }))
        {
            AssertScan(old, 1, Keys);
        }

        foreach ((StorageIterator it, int version) in open)
        {
            if (ReferenceEquals(it, first))
            {
                int n = 100;
                for (; it.Valid; it.Next(), n++)
                {
                    Assert.Equal(V(n, 1), it.Value.ToArray());
                }

                Assert.Equal(Keys, n);
            }
            else
            {
                AssertScan(it, version, Keys);
            }

            it.Dispose();
            Assert.Throws<ObjectDisposedException>(() => it.Seek(K(0)));
        }

        snapshot.Dispose();
        using StorageIterator last = db.NewIterator();
        AssertScan(last, 6, Keys);
        last.SeekToLast();
        Assert.Equal(K(Keys - 1), last.Key.ToArray());
        last.Prev();
        Assert.Equal(V(Keys - 2, 6), last.Value.ToArray());
    }

    private static void AssertScan(StorageIterator it, int version, int keys)
    {
        int n = 0;
        for (it.SeekToFirst(); it.Valid; it.Next(), n++)
        {
            Assert.Equal(K(n), it.Key.ToArray());
            Assert.Equal(V(n, version), it.Value.ToArray());
        }

        Assert.Equal(keys, n);
    }
}
