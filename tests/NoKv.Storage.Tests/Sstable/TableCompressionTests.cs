using NoKv.Storage.Cache;
using NoKv.Storage.Encoding;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

/// <summary>
/// Compressed data blocks: every codec reads back exactly what was written through every read path (mapped,
/// positional, cached or not); compression is kept only where it pays; the footer version tells old readers to
/// refuse; and a compressed block whose bytes lie (even with a valid checksum) is reported as corruption,
/// never returned as data or thrown as anything else.
/// </summary>
public sealed class TableCompressionTests
{
    public static TheoryData<CompressionType, bool, bool> ReadPaths => new()
    {
        // codec, mapped reads, block cache
        { CompressionType.Lz4, false, true },
        { CompressionType.Lz4, false, false },
        { CompressionType.Lz4, true, true },
        { CompressionType.Lz4, true, false },
        { CompressionType.Zstd, false, true },
        { CompressionType.Zstd, false, false },
        { CompressionType.Zstd, true, true },
        { CompressionType.Zstd, true, false },
    };

    [Theory]
    [MemberData(nameof(ReadPaths))]
    public void CompressedTableReadsBackEveryEntry(CompressionType codec, bool mapped, bool cached)
    {
        string context = $"codec={codec} mapped={mapped} cached={cached}";
        var random = new Random(7 + (int)codec);
        SortedDictionary<byte[], byte[]> entries = CompressibleEntries(random, 4000);
        MemFileSystem fs = TestTables.NewFileSystem();
        var plainOptions = new TableOptions { BlockSizeBytes = 1024, BlockRestartInterval = 8 };
        var options = new TableOptions { BlockSizeBytes = 1024, BlockRestartInterval = 8, Compression = codec, UseMappedReads = mapped };
        TableProperties plain = TestTables.Build(fs, TestTables.PathOf(1), entries, plainOptions);
        TableProperties compressed = TestTables.Build(fs, TestTables.PathOf(2), entries, options);

        Assert.True(compressed.FileSize < plain.FileSize * 0.7, $"{context}: {compressed.FileSize} bytes compressed vs {plain.FileSize} plain");
        Assert.Equal(TableFormat.FormatVersionCompressed, ReadFooter(fs, TestTables.PathOf(2)).Version);
        Assert.Equal(TableFormat.FormatVersionPlain, ReadFooter(fs, TestTables.PathOf(1)).Version);

        BlockCache? cache = cached ? new BlockCache(1 << 20) : null;
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(2), 2, options, cache);
        List<KeyValuePair<byte[], byte[]>> model = [.. entries];

        // Twice, so the second pass reads from the block cache where there is one.
        for (int pass = 0; pass < 2; pass++)
        {
            using (IInternalIterator it = reader.NewIterator())
            {
                int i = 0;
                for (it.SeekToFirst(); it.Valid; it.Next(), i++)
                {
                    Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
                    Assert.True(model[i].Value.AsSpan().SequenceEqual(it.Value), context);
                }

                Assert.True(i == model.Count, context);
                i = model.Count - 1;
                for (it.SeekToLast(); it.Valid; it.Prev(), i--)
                {
                    Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
                }

                Assert.True(i == -1, context);
            }

            foreach (var (key, value) in model)
            {
                Assert.True(reader.TryGet(key, out _, out ReadOnlySpan<byte> found), context);
                Assert.True(found.SequenceEqual(value), context);
            }
        }
    }

    [Theory]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void IncompressibleBlocksAreStoredPlainAndTheTableKeepsVersionOne(CompressionType codec)
    {
        var random = new Random(11);
        SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(random, 2000, 16, 200, ByteArrayComparer.Bytewise);
        MemFileSystem fs = TestTables.NewFileSystem();
        string path = TestTables.PathOf(1);
        var options = new TableOptions { Compression = codec };
        TableProperties properties = TestTables.Build(fs, path, entries, options);

        // Random bytes do not compress by an eighth: every block is plain, so builds without codecs can read it.
        Assert.Equal(TableFormat.FormatVersionPlain, ReadFooter(fs, path).Version);
        using TableReader reader = TestTables.Open(fs, path, 1, options);
        Assert.Equal(properties.Entries, reader.Properties.Entries);
        foreach (var (key, value) in entries)
        {
            Assert.True(reader.TryGet(key, out _, out ReadOnlySpan<byte> found));
            Assert.True(found.SequenceEqual(value));
        }
    }

    [Fact]
    public void UnknownFooterVersionIsRefusedAtOpen()
    {
        (MemFileSystem fs, string path, _) = BuildCompressed(CompressionType.Lz4);
        byte[] bytes = fs.ReadAllBytes(path);
        long footerOffset = bytes.Length - TableFormat.FooterSize;
        Footer footer = ReadFooter(fs, path);
        byte[] forged = new byte[TableFormat.FooterSize];
        (footer with { Version = 3 }).EncodeTo(forged);
        fs.CorruptFile(path, footerOffset, forged);

        CorruptionException e = Assert.Throws<CorruptionException>(() => TestTables.Open(fs, path, 1, TableOptions.Default));
        Assert.Contains("unsupported table format version 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompressedBlockInAVersionOneTableIsCorruption()
    {
        (MemFileSystem fs, string path, List<KeyValuePair<byte[], byte[]>> model) = BuildCompressed(CompressionType.Lz4);
        byte[] bytes = fs.ReadAllBytes(path);
        long footerOffset = bytes.Length - TableFormat.FooterSize;
        byte[] forged = new byte[TableFormat.FooterSize];
        (ReadFooter(fs, path) with { Version = TableFormat.FormatVersionPlain }).EncodeTo(forged);
        fs.CorruptFile(path, footerOffset, forged);

        using TableReader reader = TestTables.Open(fs, path, 1, TableOptions.Default);
        CorruptionException e = Assert.Throws<CorruptionException>(() => reader.TryGet(model[0].Key, out _, out _));
        Assert.Contains("unknown block compression type 1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CompressionType.Lz4, false)]
    [InlineData(CompressionType.Lz4, true)]
    [InlineData(CompressionType.Zstd, false)]
    [InlineData(CompressionType.Zstd, true)]
    public void FlippedByteInACompressedBlockIsReportedByItsChecksum(CompressionType codec, bool mapped)
    {
        (MemFileSystem fs, string path, List<KeyValuePair<byte[], byte[]>> model) = BuildCompressed(codec);
        byte[] bytes = fs.ReadAllBytes(path);
        fs.CorruptFile(path, 20, [(byte)(bytes[20] ^ 0x10)]);
        using TableReader reader = TestTables.Open(fs, path, 1, new TableOptions { UseMappedReads = mapped }, new BlockCache(1 << 20));

        CorruptionException e = Assert.Throws<CorruptionException>(() => reader.TryGet(model[0].Key, out _, out _));
        Assert.Equal(0, e.Offset);
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The checksum catches accidents; these blocks carry a valid one over bytes that lie (a wrong size header,
    /// a truncated or garbage payload), as a bug in a writer would produce. Each must read as corruption.
    /// </summary>
    [Theory]
    [InlineData(CompressionType.Lz4, 1)]
    [InlineData(CompressionType.Lz4, 2)]
    [InlineData(CompressionType.Lz4, 3)]
    [InlineData(CompressionType.Zstd, 1)]
    [InlineData(CompressionType.Zstd, 2)]
    [InlineData(CompressionType.Zstd, 3)]
    public void LyingCompressedBlockWithAValidChecksumIsCorruption(CompressionType codec, int seed)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 60; trial++)
        {
            (MemFileSystem fs, string path, List<KeyValuePair<byte[], byte[]>> model) = BuildCompressed(codec);
            byte[] bytes = fs.ReadAllBytes(path);
            BlockHandle first = FirstDataBlock(fs, path);
            byte[] contents = bytes.AsSpan((int)first.Offset, (int)first.Size).ToArray();
            switch (trial % 3)
            {
                case 0:
                    // Size header off by a little: the payload decodes to a different length than promised.
                    Varint.TryRead32(contents, out uint raw);
                    Varint.Write32(contents, raw + (uint)random.Next(1, 50));
                    break;
                case 1:
                    // Payload damaged at a random place (the size header intact).
                    int at = random.Next(Varint.Length32(1024), contents.Length);
                    contents[at] ^= (byte)random.Next(1, 256);
                    break;
                default:
                    // Payload replaced by garbage.
                    random.NextBytes(contents.AsSpan(Varint.Length32(1024)));
                    break;
            }

            byte[] block = new byte[contents.Length + TableFormat.BlockTrailerSize];
            contents.CopyTo(block, 0);
            block[contents.Length] = (byte)codec;
            Fixed.Write32(block.AsSpan(contents.Length + 1), Crc32C.Mask(Crc32C.Compute(block.AsSpan(0, contents.Length + 1))));
            fs.CorruptFile(path, first.Offset, block);

            using TableReader reader = TestTables.Open(fs, path, 1, TableOptions.Default);
            try
            {
                // A damaged literal can still decode to the promised length: then the data differs, which only the
                // checksum could have caught, and the checksum was forged. Anything else must be a CorruptionException.
                foreach (var (key, _) in model.Take(5))
                {
                    reader.TryGet(key, out _, out _);
                }
            }
            catch (CorruptionException e)
            {
                Assert.Equal(path, e.Path);
            }
        }
    }

    [Fact]
    public void InvalidCodecOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new TableOptions { Compression = (CompressionType)9 }.Validate());
        Assert.Throws<ArgumentException>(() => new TableOptions { Compression = CompressionType.Zstd, ZstdLevel = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => Database.Open("/x", new StorageOptions { FileSystem = new MemFileSystem(), CompressionPerLevel = [CompressionType.None, (CompressionType)7] }));
    }

    /// <summary>Keys with shared prefixes and values drawn from a small vocabulary: compresses like real records.</summary>
    internal static SortedDictionary<byte[], byte[]> CompressibleEntries(Random random, int count)
    {
        string[] words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        while (entries.Count < count)
        {
            byte[] key = System.Text.Encoding.ASCII.GetBytes($"user{random.Next(1_000_000):D7}");
            var value = new System.Text.StringBuilder();
            int length = random.Next(20, 300);
            while (value.Length < length)
            {
                value.Append(words[random.Next(words.Length)]).Append(random.Next(100)).Append(' ');
            }

            entries[key] = System.Text.Encoding.ASCII.GetBytes(value.ToString());
        }

        return entries;
    }

    private static (MemFileSystem Fs, string Path, List<KeyValuePair<byte[], byte[]>> Model) BuildCompressed(CompressionType codec)
    {
        SortedDictionary<byte[], byte[]> entries = CompressibleEntries(new Random(3), 300);
        MemFileSystem fs = TestTables.NewFileSystem();
        string path = TestTables.PathOf(1);
        TestTables.Build(fs, path, entries, new TableOptions { BlockSizeBytes = 1024, Compression = codec });
        Assert.Equal(TableFormat.FormatVersionCompressed, ReadFooter(fs, path).Version);
        return (fs, path, [.. entries]);
    }

    private static BlockHandle FirstDataBlock(MemFileSystem fs, string path)
    {
        using TableReader reader = TestTables.Open(fs, path, 1, TableOptions.Default);
        var index = new BlockIterator(reader.IndexBlock, reader.Comparer);
        index.SeekToFirst();
        Assert.True(BlockHandle.TryDecode(index.Value, out BlockHandle handle) > 0);
        return handle;
    }

    private static Footer ReadFooter(MemFileSystem fs, string path)
    {
        byte[] bytes = fs.ReadAllBytes(path);
        long footerOffset = bytes.Length - TableFormat.FooterSize;
        return Footer.Decode(bytes.AsSpan((int)footerOffset), path, footerOffset);
    }
}
