using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class ApproximateSizeTests
{
    [Fact]
    public void Ranges_are_sized_from_the_tables_in_proportion_to_the_data_they_hold()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/s", new StorageOptions { FileSystem = fs });
        var value = new byte[200];
        new Random(7).NextBytes(value);
        for (int i = 0; i < 4000; i++)
        {
            db.Put(System.Text.Encoding.ASCII.GetBytes($"{(i < 1000 ? 'a' : 'b')}{i:D6}"), value);
        }

        Assert.Equal(0, db.GetApproximateSize("a"u8, "c"u8)); // all in the memtable: tables only
        db.Flush();

        long all = db.GetApproximateSize([], []);
        long a = db.GetApproximateSize("a"u8, "b"u8);
        long b = db.GetApproximateSize("b"u8, "c"u8);
        Assert.Equal(db.GetStatistics().LiveSstBytes, all);
        Assert.InRange(a, all / 4 * 0.8, all / 4 * 1.2);
        Assert.InRange(b, all * 3 / 4 * 0.8, all * 3 / 4 * 1.2);
        Assert.Equal(0, db.GetApproximateSize("c"u8, "d"u8));
        Assert.Equal(0, db.GetApproximateSize("0"u8, "a"u8));
    }

    [Fact]
    public void Entries_are_estimated_from_the_tables_entry_counts_in_proportion_to_the_range()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/s", new StorageOptions { FileSystem = fs });
        var value = new byte[100];
        for (int i = 0; i < 4000; i++)
        {
            db.Put(System.Text.Encoding.ASCII.GetBytes($"{(i < 1000 ? 'a' : 'b')}{i:D6}"), value);
        }

        Assert.Equal(0, db.GetApproximateEntries([], [])); // all in the memtable: tables only
        db.Flush();

        Assert.Equal(4000, db.GetApproximateEntries([], []));
        Assert.InRange(db.GetApproximateEntries("a"u8, "b"u8), 800, 1200);
        Assert.InRange(db.GetApproximateEntries("b"u8, "c"u8), 2700, 3300);
        Assert.Equal(0, db.GetApproximateEntries("c"u8, "d"u8));

        // Overwrites are entries too until compaction drops the older versions: the estimate errs high, then comes back.
        for (int i = 0; i < 1000; i++)
        {
            db.Put(System.Text.Encoding.ASCII.GetBytes($"a{i:D6}"), value);
        }

        db.Flush();
        Assert.InRange(db.GetApproximateEntries("a"u8, "b"u8), 1600, 2400);
        db.CompactRange([], []);
        Assert.InRange(db.GetApproximateEntries("a"u8, "b"u8), 800, 1200);
    }
}
