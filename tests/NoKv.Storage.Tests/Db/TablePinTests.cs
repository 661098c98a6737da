using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>Point reads pin the tables of live files; the pins must go with the files.</summary>
public sealed class TablePinTests
{
    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static byte[] V(int i, int version) => System.Text.Encoding.ASCII.GetBytes($"value{i:D5}-v{version}");

    private static StorageOptions Options(IFileSystem fs) => new()
    {
        FileSystem = fs,
        MemtableSizeBytes = 16 << 10,
        TargetFileSizeBytes = 8 << 10,
        MaxBytesForLevelBase = 1 << 20,
        Level0CompactionTrigger = 100,
        Level0SlowdownTrigger = 100,
        Level0StopTrigger = 100,
    };

    [Fact]
    public void Pinned_tables_close_when_their_files_are_compacted_away_and_at_dispose()
    {
        var memory = new MemFileSystem();
        var fs = new CountingFileSystem(memory);
        Database db = Database.Open("/pins", Options(fs));
        try
        {
            for (int i = 0; i < 2000; i++)
            {
                db.Put(K(i), V(i, 1));
            }

            db.Flush();
            ReadAll(db, 1);
            int tablesBefore = LiveTables(db);
            Assert.True(tablesBefore > 1, "the test needs several level-0 tables");
            Assert.Equal(tablesBefore, fs.OpenHandles);

            for (int i = 0; i < 2000; i += 2)
            {
                db.Put(K(i), V(i, 2));
            }

            db.CompactRange([], []);
            ReadAll(db, 2);

            // Every handle left open belongs to a live table: the old tables' pins were dropped.
            Assert.Equal(LiveTables(db), fs.OpenHandles);
        }
        finally
        {
            db.Dispose();
        }

        Assert.Equal(0, fs.OpenHandles);
    }

    private static void ReadAll(Database db, int newestVersion)
    {
        for (int i = 0; i < 2000; i++)
        {
            int version = i % 2 == 0 ? newestVersion : 1;
            Assert.Equal(V(i, version), db.Get(K(i)));
        }
    }

    private static int LiveTables(Database db) => db.GetStatistics().Levels.Sum(l => l.FileCount);
}
