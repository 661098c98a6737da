using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

public class TableCorruptionTests
{
    private static readonly TableOptions Options = new() { BlockSizeBytes = 256, BlockRestartInterval = 4, BloomBitsPerKey = 10 };

    // The same table read through a (pinned in-memory) mapping instead of positional reads.
    private static readonly TableOptions MappedOptions = new() { BlockSizeBytes = 256, BlockRestartInterval = 4, BloomBitsPerKey = 10, UseMappedReads = true };

    [Theory]
    [InlineData("filter")]
    [InlineData("properties")]
    [InlineData("index")]
    public void DamagedMetaBlockFailsOpenWithItsOffset(string which)
    {
        (MemFileSystem fs, string path, _) = BuildSmallTable();
        Footer footer = ReadFooter(fs, path);
        BlockHandle handle = which switch
        {
            "filter" => footer.Filter,
            "properties" => footer.Properties,
            _ => footer.Index,
        };

        Flip(fs, path, handle.Offset + (handle.Size / 2));
        CorruptionException e = Assert.Throws<CorruptionException>(() => TestTables.Open(fs, path, 1, Options));
        Assert.Equal(path, e.Path);
        Assert.Equal(handle.Offset, e.Offset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(49)]
    [InlineData(53)]
    [InlineData(60)]
    public void DamagedFooterFailsOpen(int byteInFooter)
    {
        (MemFileSystem fs, string path, _) = BuildSmallTable();
        long footerOffset = fs.GetFileLength(path) - TableFormat.FooterSize;
        Flip(fs, path, footerOffset + byteInFooter);
        CorruptionException e = Assert.Throws<CorruptionException>(() => TestTables.Open(fs, path, 1, Options));
        Assert.Equal(footerOffset, e.Offset);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DamagedDataBlockIsReportedOnReadWithItsOffset(bool mapped)
    {
        (MemFileSystem fs, string path, List<KeyValuePair<byte[], byte[]>> model) = BuildSmallTable();
        Flip(fs, path, 10);
        using TableReader reader = TestTables.Open(fs, path, 1, mapped ? MappedOptions : Options);
        Assert.Equal(mapped, reader.IsMapped);

        CorruptionException e = Assert.Throws<CorruptionException>(() => reader.TryGet(model[0].Key, out _, out _));
        Assert.Equal(path, e.Path);
        Assert.Equal(0, e.Offset);

        using IInternalIterator it = reader.NewIterator();
        Assert.Throws<CorruptionException>(it.SeekToFirst);
        Assert.False(it.Valid);

        // A failed move from a valid position leaves the iterator invalid, not at its old entry.
        it.Seek(model[^1].Key);
        Assert.True(it.Valid);
        Assert.Throws<CorruptionException>(() => it.Seek(model[0].Key));
        Assert.False(it.Valid);
        it.Seek(model[^1].Key);
        Assert.True(it.Valid);
        bool reported = false;
        while (it.Valid && !reported)
        {
            try
            {
                it.Prev();
            }
            catch (CorruptionException)
            {
                reported = true;
            }
        }

        Assert.True(reported, "walking back into the damaged block must report it");
        Assert.False(it.Valid);

        // Blocks after the damaged one still read fine.
        Assert.True(reader.TryGet(model[^1].Key, out _, out ReadOnlySpan<byte> value));
        Assert.True(value.SequenceEqual(model[^1].Value));
    }

    [Fact]
    public void DamagedCompressionTypeByteIsDetected()
    {
        (MemFileSystem fs, string path, List<KeyValuePair<byte[], byte[]>> model) = BuildSmallTable();
        using (TableReader reader = TestTables.Open(fs, path, 1, Options))
        {
            using IInternalIterator it = reader.NewIterator();
            it.SeekToFirst();
        }

        Footer footer = ReadFooter(fs, path);
        long typeByte = footer.Index.Offset + footer.Index.Size;
        Flip(fs, path, typeByte);
        Assert.Throws<CorruptionException>(() => TestTables.Open(fs, path, 1, Options));
        Assert.NotEmpty(model);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryFlippedByteIsDetectedAndNoWrongDataIsReturned(bool mapped)
    {
        (MemFileSystem fs, string path, List<KeyValuePair<byte[], byte[]>> model) = BuildSmallTable();
        byte[] original = fs.ReadAllBytes(path);
        var random = new Random(1234);
        int detectedAtOpen = 0, detectedOnRead = 0;
        for (long position = 0; position < original.Length; position++)
        {
            byte mask = (byte)(1 << random.Next(8));
            fs.CorruptFile(path, position, [(byte)(original[position] ^ mask)]);
            try
            {
                TableReader reader;
                try
                {
                    reader = TestTables.Open(fs, path, 1, mapped ? MappedOptions : Options);
                }
                catch (CorruptionException)
                {
                    detectedAtOpen++;
                    continue;
                }

                using (reader)
                {
                    bool detected = ReadEverythingCheckingValues(reader, model, $"position={position} mask={mask}");
                    Assert.True(detected, $"flip at {position} (mask {mask}) went unnoticed");
                    detectedOnRead++;
                }
            }
            finally
            {
                fs.CorruptFile(path, position, [original[position]]);
            }
        }

        Assert.Equal(original.Length, detectedAtOpen + detectedOnRead);
        Assert.True(detectedOnRead > 0 && detectedAtOpen > 0);
    }

    [Fact]
    public void TruncatedTableFailsOpen()
    {
        (MemFileSystem fs, string path, _) = BuildSmallTable();
        byte[] bytes = fs.ReadAllBytes(path);
        foreach (int cut in new[] { 0, 10, 63, bytes.Length / 2, bytes.Length - 1 })
        {
            string truncated = TestTables.PathOf(100 + cut);
            using (IWritableFile file = fs.CreateWritable(truncated))
            {
                file.Append(bytes.AsSpan(0, cut));
            }

            Assert.Throws<CorruptionException>(() => TestTables.Open(fs, truncated, 2, Options));
        }
    }

    /// <summary>Reads every entry both ways; returns true if corruption was reported. Fails on wrong data.</summary>
    private static bool ReadEverythingCheckingValues(TableReader reader, List<KeyValuePair<byte[], byte[]>> model, string context)
    {
        bool detected = false;
        try
        {
            using IInternalIterator it = reader.NewIterator(fillCache: false);
            int i = 0;
            for (it.SeekToFirst(); it.Valid; it.Next(), i++)
            {
                Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
                Assert.True(model[i].Value.AsSpan().SequenceEqual(it.Value), context);
            }

            Assert.True(model.Count == i, context);
        }
        catch (CorruptionException)
        {
            detected = true;
        }

        foreach (KeyValuePair<byte[], byte[]> e in model)
        {
            try
            {
                Assert.True(reader.TryGet(e.Key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value), context);
                Assert.True(foundKey.SequenceEqual(e.Key), context);
                Assert.True(value.SequenceEqual(e.Value), context);
            }
            catch (CorruptionException)
            {
                detected = true;
            }
        }

        return detected;
    }

    private static (MemFileSystem Fs, string Path, List<KeyValuePair<byte[], byte[]>> Model) BuildSmallTable()
    {
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        for (int i = 0; i < 60; i++)
        {
            entries[System.Text.Encoding.ASCII.GetBytes($"key{i * 7:D5}")] = System.Text.Encoding.ASCII.GetBytes($"value-{i}");
        }

        MemFileSystem fs = TestTables.NewFileSystem();
        string path = TestTables.PathOf(1);
        TestTables.Build(fs, path, entries, Options);
        return (fs, path, [.. entries]);
    }

    private static Footer ReadFooter(MemFileSystem fs, string path)
    {
        byte[] bytes = fs.ReadAllBytes(path);
        long footerOffset = bytes.Length - TableFormat.FooterSize;
        return Footer.Decode(bytes.AsSpan((int)footerOffset), path, footerOffset);
    }

    private static void Flip(MemFileSystem fs, string path, long offset)
    {
        byte[] bytes = fs.ReadAllBytes(path);
        fs.CorruptFile(path, offset, [(byte)(bytes[offset] ^ 0x20)]);
    }
}
