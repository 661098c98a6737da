using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>A database on the physical file system with mapped table reads (the default on 64-bit Unix).</summary>
public sealed class MappedDatabaseTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "nokv-mapped-db-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static byte[] V(int i, int version) => System.Text.Encoding.ASCII.GetBytes($"value{i:D5}-v{version}-{new string('x', i % 50)}");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_iterator_reads_its_tables_after_compaction_replaced_them_and_they_go_when_it_is_disposed(bool mapped)
    {
        var options = new StorageOptions
        {
            MemtableSizeBytes = 32 << 10,
            TargetFileSizeBytes = 16 << 10,
            UseMappedReads = mapped,
        };
        using Database db = Database.Open(_directory, options);
        for (int i = 0; i < 3000; i++)
        {
            db.Put(K(i), V(i, 1));
        }

        db.Flush();
        HashSet<string> oldTables = Tables();
        Assert.NotEmpty(oldTables);

        StorageIterator it = db.NewIterator();
        try
        {
            it.Seek(K(10));
            Assert.True(it.Valid);
            for (int i = 0; i < 3000; i++)
            {
                db.Put(K(i), V(i, 2));
            }

            db.CompactRange([], []);

            // The old tables are out of the current version but the iterator's view still needs them.
            Assert.All(oldTables, t => Assert.True(File.Exists(Path.Combine(_directory, t)), $"{t} deleted while in use"));
            for (int i = 10; i < 3000; i++, it.Next())
            {
                Assert.True(it.Valid && it.Key.SequenceEqual(K(i)) && it.Value.SequenceEqual(V(i, 1)), $"entry {i} mapped={mapped}");
            }

            Assert.False(it.Valid);
        }
        finally
        {
            it.Dispose();
        }

        // Released: the purger deletes them (CompactRange waits for its pass); reads see the new data.
        db.Put(K(0), V(0, 3));
        db.CompactRange([], []);
        Assert.DoesNotContain(Tables(), t => oldTables.Contains(t));
        Assert.Equal(V(0, 3), db.Get(K(0)));
        Assert.Equal(V(2999, 2), db.Get(K(2999)));
    }

    private HashSet<string> Tables()
    {
        var tables = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(_directory, "*.sst"))
        {
            tables.Add(Path.GetFileName(path));
        }

        return tables;
    }
}
