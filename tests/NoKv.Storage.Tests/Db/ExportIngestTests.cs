using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class ExportIngestTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static StorageOptions Options(MemFileSystem fs) => new() { FileSystem = fs, MemtableSizeBytes = 8 << 10, TargetFileSizeBytes = 4 << 10 };

    private static List<(string Key, string Value)> Scan(Database db)
    {
        var result = new List<(string, string)>();
        using StorageIterator it = db.NewIterator();
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            result.Add((System.Text.Encoding.UTF8.GetString(it.Key), System.Text.Encoding.UTF8.GetString(it.Value)));
        }

        return result;
    }

    private static MemoryStream ExportFromSource(MemFileSystem fs, string start, string end, out List<(string, string)> exported)
    {
        using Database src = Database.Open("/src", Options(fs));
        for (int i = 0; i < 500; i++)
        {
            src.Put(B($"k{i:D4}"), B($"src{i}"));
        }

        src.Flush();
        src.Delete(B("k0101"));
        src.DeleteRange(B("k0200"), B("k0210"));
        using Snapshot snap = src.GetSnapshot();
        src.Put(B("k0150"), B("after-snapshot"));
        var stream = new MemoryStream();
        src.ExportRange(B(start), B(end), stream, snap);
        exported = [];
        using StorageIterator it = src.NewIterator(new ReadOptions { Snapshot = snap, LowerBound = B(start), UpperBound = end.Length == 0 ? null : B(end) });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            exported.Add((System.Text.Encoding.UTF8.GetString(it.Key), System.Text.Encoding.UTF8.GetString(it.Value)));
        }

        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void Ingest_replaces_exactly_the_range_and_survives_reopen()
    {
        var fs = new MemFileSystem();
        MemoryStream stream = ExportFromSource(fs, "k0100", "k0300", out var exported);
        Assert.Equal(200 - 1 - 10, exported.Count);
        Assert.Contains(("k0150", "src150"), exported);

        using (Database dst = Database.Open("/dst", Options(fs)))
        {
            for (int i = 0; i < 400; i += 3)
            {
                dst.Put(B($"k{i:D4}"), B($"dst{i}"));
            }

            dst.Flush();
            dst.Put(B("k0102"), B("in-memtable"));
            long n = dst.IngestRange(B("k0100"), B("k0300"), stream);
            Assert.Equal(exported.Count, n);
            Check(dst, exported);
            dst.Put(B("k0150"), B("newer"));
            Assert.Equal(B("newer"), dst.Get(B("k0150")));
            dst.Put(B("k0150"), B("src150"));
        }

        using (Database dst = Database.Open("/dst", Options(fs)))
        {
            Check(dst, exported);
            dst.CompactRange([], []);
            Check(dst, exported);
        }
    }

    private static void Check(Database dst, List<(string, string)> exported)
    {
        List<(string Key, string Value)> all = Scan(dst);
        Assert.Equal(exported, all.Where(kv => string.CompareOrdinal(kv.Key, "k0100") >= 0 && string.CompareOrdinal(kv.Key, "k0300") < 0).ToList());
        var outside = all.Where(kv => string.CompareOrdinal(kv.Key, "k0100") < 0 || string.CompareOrdinal(kv.Key, "k0300") >= 0).ToList();
        Assert.Equal(Enumerable.Range(0, 400).Where(i => i % 3 == 0 && (i < 100 || i >= 300)).Select(i => ($"k{i:D4}", $"dst{i}")).ToList(), outside);
        Assert.Null(dst.Get(B("k0101")));
        Assert.Equal(B("src102"), dst.Get(B("k0102")));
    }

    [Fact]
    public void Ingest_with_unbounded_end_replaces_the_tail()
    {
        var fs = new MemFileSystem();
        MemoryStream stream = ExportFromSource(fs, "k0490", "", out var exported);
        Assert.Equal(10, exported.Count);
        using Database dst = Database.Open("/dst", Options(fs));
        dst.Put(B("a"), B("keep"));
        dst.Put(B("zzz"), B("gone"));
        Assert.Equal(10, dst.IngestRange(B("k0490"), [], stream));
        var all = Scan(dst);
        Assert.Equal(new[] { ("a", "keep") }.Concat(exported).ToList(), all);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(20)]
    [InlineData(3000)]
    public void Damaged_or_truncated_stream_is_rejected_and_changes_nothing(int damageAt)
    {
        var fs = new MemFileSystem();
        MemoryStream stream = ExportFromSource(fs, "k0000", "k0500", out _);
        byte[] bytes = stream.ToArray();
        if (damageAt < 0)
        {
            bytes = bytes[..^3];
        }
        else
        {
            bytes[damageAt] ^= 0x40;
        }

        using Database dst = Database.Open("/dst", Options(fs));
        dst.Put(B("k0001"), B("old"));
        Assert.Throws<CorruptionException>(() => dst.IngestRange(B("k0000"), B("k0500"), new MemoryStream(bytes)));
        Assert.Equal([("k0001", "old")], Scan(dst));
        dst.Put(B("k0002"), B("still writable"));
        Assert.Equal(B("still writable"), dst.Get(B("k0002")));
    }

    [Fact]
    public void Keys_outside_the_ingest_range_are_rejected()
    {
        var fs = new MemFileSystem();
        MemoryStream stream = ExportFromSource(fs, "k0000", "k0500", out _);
        using Database dst = Database.Open("/dst", Options(fs));
        Assert.Throws<CorruptionException>(() => dst.IngestRange(B("k0100"), B("k0200"), stream));
        Assert.Empty(Scan(dst));
    }
}
