using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

/// <summary>
/// A table builder's index block and filter key hashes live in arrays rented from the shared pool and given back
/// when the table is finished or abandoned: tables built one after another, or two at once, or after an abandoned
/// one, must each read back exactly their own entries (a buffer returned too early would mix two tables).
/// </summary>
public sealed class TableBuilderBufferReuseTests
{
    // Small blocks make a large index: past 85,000 bytes both buffers are the large arrays the pool recycles.
    private static readonly TableOptions Options = new() { BlockSizeBytes = 64, BlockRestartInterval = 1, BloomBitsPerKey = 10 };

    [Fact]
    public void Tables_built_in_turn_and_interleaved_read_back_their_own_entries()
    {
        MemFileSystem fs = TestTables.NewFileSystem();
        var tables = new List<(string Path, SortedDictionary<byte[], byte[]> Entries)>();
        for (int t = 0; t < 3; t++)
        {
            SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(new Random(t), 12_000, 20, 16, ByteArrayComparer.Bytewise);
            string path = TestTables.PathOf(t + 1);
            TestTables.Build(fs, path, entries, Options);
            tables.Add((path, entries));
        }

        // Two builders open at once, and one abandoned in the middle of them.
        SortedDictionary<byte[], byte[]> first = TestTables.RandomEntries(new Random(10), 12_000, 20, 16, ByteArrayComparer.Bytewise);
        SortedDictionary<byte[], byte[]> second = TestTables.RandomEntries(new Random(11), 12_000, 20, 16, ByteArrayComparer.Bytewise);
        SortedDictionary<byte[], byte[]> dropped = TestTables.RandomEntries(new Random(12), 12_000, 20, 16, ByteArrayComparer.Bytewise);
        using IWritableFile firstFile = fs.CreateWritable(TestTables.PathOf(10));
        using IWritableFile secondFile = fs.CreateWritable(TestTables.PathOf(11));
        using IWritableFile droppedFile = fs.CreateWritable(TestTables.PathOf(12));
        var firstBuilder = new TableBuilder(firstFile, Options);
        var secondBuilder = new TableBuilder(secondFile, Options);
        var droppedBuilder = new TableBuilder(droppedFile, Options);
        using (IEnumerator<KeyValuePair<byte[], byte[]>> a = first.GetEnumerator())
        using (IEnumerator<KeyValuePair<byte[], byte[]>> b = second.GetEnumerator())
        using (IEnumerator<KeyValuePair<byte[], byte[]>> c = dropped.GetEnumerator())
        {
            bool moreA = a.MoveNext(), moreB = b.MoveNext(), moreC = c.MoveNext();
            int step = 0;
            while (moreA || moreB)
            {
                if (moreA)
                {
                    firstBuilder.Add(a.Current.Key, a.Current.Value);
                    moreA = a.MoveNext();
                }

                if (moreB)
                {
                    secondBuilder.Add(b.Current.Key, b.Current.Value);
                    moreB = b.MoveNext();
                }

                if (moreC)
                {
                    droppedBuilder.Add(c.Current.Key, c.Current.Value);
                    moreC = c.MoveNext();
                }

                if (++step == 6_000)
                {
                    droppedBuilder.Abandon();
                    moreC = false;
                }
            }
        }

        secondBuilder.Finish();
        secondFile.Sync();
        firstBuilder.Finish();
        firstFile.Sync();
        tables.Add((TestTables.PathOf(10), first));
        tables.Add((TestTables.PathOf(11), second));

        for (int t = 0; t < tables.Count; t++)
        {
            (string path, SortedDictionary<byte[], byte[]> entries) = tables[t];
            using TableReader reader = TestTables.Open(fs, path, t + 1, Options);
            foreach ((byte[] key, byte[] value) in entries)
            {
                Assert.True(reader.TryGet(key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> found), $"table {t} lost a key");
                Assert.True(foundKey.SequenceEqual(key));
                Assert.True(found.SequenceEqual(value));
            }

            int present = 0;
            foreach (byte[] key in tables[(t + 1) % tables.Count].Entries.Keys)
            {
                if (!entries.ContainsKey(key) && reader.TryGet(key, out ReadOnlySpan<byte> foundKey, out _) && foundKey.SequenceEqual(key))
                {
                    present++;
                }
            }

            Assert.Equal(0, present);
        }
    }
}
