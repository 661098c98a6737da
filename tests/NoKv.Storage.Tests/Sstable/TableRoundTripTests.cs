using NoKv.Storage.Cache;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

public class TableRoundTripTests
{
    public static TheoryData<int, int, int, int, bool> Configurations => new()
    {
        // seed, block size, restart interval, bloom bits, block cache
        { 101, 4096, 16, 10, true },
        { 102, 4096, 16, 0, false },
        { 103, 256, 1, 10, false },
        { 104, 64, 2, 10, true },
        { 105, 1024, 4, 6, true },
        { 106, 16384, 64, 16, false },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void RandomKeysRoundTrip(int seed, int blockSize, int restartInterval, int bloomBits, bool useCache)
    {
        string context = $"seed={seed} blockSize={blockSize} restartInterval={restartInterval} bloomBits={bloomBits} cache={useCache}";
        var random = new Random(seed);
        var options = new TableOptions { BlockSizeBytes = blockSize, BlockRestartInterval = restartInterval, BloomBitsPerKey = bloomBits };
        SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(random, 5000, 24, 120, ByteArrayComparer.Bytewise);
        MemFileSystem fs = TestTables.NewFileSystem();
        string path = TestTables.PathOf(1);
        TableProperties props = TestTables.Build(fs, path, entries, options);

        Assert.Equal(entries.Count, props.Entries);
        Assert.Equal(fs.GetFileLength(path), props.FileSize);
        Assert.Equal(entries.First().Key, props.SmallestKey);
        Assert.Equal(entries.Last().Key, props.LargestKey);
        Assert.True(props.DataBlocks >= 1);

        BlockCache? cache = useCache ? new BlockCache(1 << 20) : null;
        using TableReader reader = TestTables.Open(fs, path, 1, options, cache);
        Assert.Equal(props.Entries, reader.Properties.Entries);
        Assert.Equal(props.SmallestKey, reader.Properties.SmallestKey);
        Assert.Equal(props.LargestKey, reader.Properties.LargestKey);
        Assert.Equal(props.DataBlocks, reader.Properties.DataBlocks);
        List<KeyValuePair<byte[], byte[]>> model = [.. entries];

        // Forward and backward scans.
        using (IInternalIterator it = reader.NewIterator())
        {
            int i = 0;
            for (it.SeekToFirst(); it.Valid; it.Next(), i++)
            {
                Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
                Assert.True(model[i].Value.AsSpan().SequenceEqual(it.Value), context);
            }

            Assert.True(model.Count == i, context);
            i = model.Count - 1;
            for (it.SeekToLast(); it.Valid; it.Prev(), i--)
            {
                Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
                Assert.True(model[i].Value.AsSpan().SequenceEqual(it.Value), context);
            }

            Assert.True(i == -1, context);
        }

        // Point reads of every key, and of absent keys.
        foreach (KeyValuePair<byte[], byte[]> e in model)
        {
            Assert.True(reader.TryGet(e.Key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value), context);
            Assert.True(foundKey.SequenceEqual(e.Key), context);
            Assert.True(value.SequenceEqual(e.Value), context);
        }

        for (int i = 0; i < 2000; i++)
        {
            byte[] absent = RandomAbsentKey(random, entries);
            Assert.False(reader.TryGet(absent, out _, out _), context);
        }

        // Seeks to present and absent targets, then Prev/Next around the landing point.
        using (IInternalIterator it = reader.NewIterator())
        {
            for (int probe = 0; probe < 2000; probe++)
            {
                byte[] target = probe % 3 == 0 ? model[random.Next(model.Count)].Key : RandomAbsentKey(random, entries);
                int expected = LowerBound(model, target);
                it.Seek(target);
                if (expected == model.Count)
                {
                    Assert.False(it.Valid, context);
                    continue;
                }

                Assert.True(it.Valid && model[expected].Key.AsSpan().SequenceEqual(it.Key), context);
                it.Prev();
                if (expected == 0)
                {
                    Assert.False(it.Valid, context);
                    continue;
                }

                Assert.True(it.Valid && model[expected - 1].Key.AsSpan().SequenceEqual(it.Key), context);
                it.Next();
                Assert.True(it.Valid && model[expected].Key.AsSpan().SequenceEqual(it.Key), context);
            }
        }

        if (cache is not null)
        {
            BlockCacheStatistics stats = cache.GetStatistics();
            Assert.True(stats.Hits > 0 && stats.Misses > 0, context);
        }
    }

    [Fact]
    public void InternalKeyTableServesNewestVisibleVersion()
    {
        const int seed = 7;
        var random = new Random(seed);
        var options = new TableOptions { Comparer = InternalKeyComparer.Instance, BlockSizeBytes = 128, BlockRestartInterval = 4 };
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Internal);

        // Each user key gets several versions so versions straddle block boundaries.
        var versions = new Dictionary<string, List<ulong>>();
        ulong sequence = 1;
        for (int u = 0; u < 400; u++)
        {
            byte[] user = System.Text.Encoding.ASCII.GetBytes($"user{u:D5}");
            var seqs = new List<ulong>();
            int count = random.Next(1, 6);
            for (int v = 0; v < count; v++)
            {
                sequence += (ulong)random.Next(1, 4);
                seqs.Add(sequence);
                byte kind = (byte)(random.Next(5) == 0 ? 0 : 1);
                entries[InternalKeyComparer.MakeKey(user, sequence, kind)] = System.Text.Encoding.ASCII.GetBytes($"v{sequence}");
            }

            versions[$"user{u:D5}"] = seqs;
        }

        MemFileSystem fs = TestTables.NewFileSystem();
        TestTables.Build(fs, TestTables.PathOf(2), entries, options);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(2), 2, options, new BlockCache(1 << 20));

        foreach ((string user, List<ulong> seqs) in versions)
        {
            byte[] userBytes = System.Text.Encoding.ASCII.GetBytes(user);
            for (int probe = 0; probe < 4; probe++)
            {
                ulong snapshot = seqs[0] - 1 + (ulong)random.Next(0, (int)(seqs[^1] - seqs[0] + 3));
                ulong? expected = seqs.Where(s => s <= snapshot).Cast<ulong?>().LastOrDefault();
                byte[] lookup = InternalKeyComparer.MakeKey(userBytes, snapshot, 0xFF);
                bool found = reader.TryGet(lookup, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value);
                string context = $"seed={seed} user={user} snapshot={snapshot}";
                Assert.True(found == expected.HasValue, context);
                if (found)
                {
                    ulong trailer = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(foundKey[^8..]);
                    Assert.True(expected == trailer >> 8, context);
                    Assert.True(value.SequenceEqual(System.Text.Encoding.ASCII.GetBytes($"v{expected}")), context);
                }
            }
        }

        Assert.False(reader.TryGet(InternalKeyComparer.MakeKey("user99999"u8, 1000, 0xFF), out _, out _));
        Assert.False(reader.TryGet(InternalKeyComparer.MakeKey("a"u8, 1000, 0xFF), out _, out _));
    }

    [Fact]
    public void LongKeysWithLongSharedPrefixesRoundTrip()
    {
        const int seed = 404;
        var random = new Random(seed);
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        var stem = new byte[2500];
        random.NextBytes(stem);
        while (entries.Count < 600)
        {
            // Keys of 0..3000 bytes that share up to 2500 bytes with each other.
            int shared = random.Next(0, stem.Length);
            var key = new byte[shared + random.Next(0, 500)];
            stem.AsSpan(0, shared).CopyTo(key);
            random.NextBytes(key.AsSpan(shared));
            entries[key] = BitConverter.GetBytes(key.Length);
        }

        var options = new TableOptions { BlockSizeBytes = 8192, BlockRestartInterval = 8 };
        MemFileSystem fs = TestTables.NewFileSystem();
        TestTables.Build(fs, TestTables.PathOf(11), entries, options);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(11), 11, options);
        List<KeyValuePair<byte[], byte[]>> model = [.. entries];
        using IInternalIterator it = reader.NewIterator();
        int i = 0;
        for (it.SeekToFirst(); it.Valid; it.Next(), i++)
        {
            Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), $"seed={seed} i={i}");
        }

        Assert.Equal(model.Count, i);
        i = model.Count - 1;
        for (it.SeekToLast(); it.Valid; it.Prev(), i--)
        {
            Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), $"seed={seed} i={i}");
        }

        foreach (KeyValuePair<byte[], byte[]> e in model)
        {
            Assert.True(reader.TryGet(e.Key, out _, out ReadOnlySpan<byte> value), $"seed={seed}");
            Assert.True(value.SequenceEqual(e.Value), $"seed={seed}");
        }
    }

    [Fact]
    public void EmptyTableOpensAndIsEmpty()
    {
        MemFileSystem fs = TestTables.NewFileSystem();
        TableProperties props = TestTables.Build(fs, TestTables.PathOf(3), [], TableOptions.Default);
        Assert.Equal(0, props.Entries);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(3), 3, TableOptions.Default);
        using IInternalIterator it = reader.NewIterator();
        it.SeekToFirst();
        Assert.False(it.Valid);
        it.SeekToLast();
        Assert.False(it.Valid);
        it.Seek("a"u8);
        Assert.False(it.Valid);
        Assert.False(reader.TryGet("a"u8, out _, out _));
        Assert.Empty(reader.Properties.SmallestKey);
    }

    [Fact]
    public void ValuesLargerThanABlockAndEmptyKeysRoundTrip()
    {
        var random = new Random(9);
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        entries[[]] = [1, 2, 3];
        for (int i = 0; i < 20; i++)
        {
            var value = new byte[random.Next(5000, 70000)];
            random.NextBytes(value);
            entries[System.Text.Encoding.ASCII.GetBytes($"big{i:D3}")] = value;
        }

        MemFileSystem fs = TestTables.NewFileSystem();
        TestTables.Build(fs, TestTables.PathOf(4), entries, TableOptions.Default);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(4), 4, TableOptions.Default, new BlockCache(64 << 10));
        foreach (KeyValuePair<byte[], byte[]> e in entries)
        {
            Assert.True(reader.TryGet(e.Key, out _, out ReadOnlySpan<byte> value));
            Assert.True(value.SequenceEqual(e.Value));
        }
    }

    [Fact]
    public void ApproximateOffsetsGrowWithTheKey()
    {
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        for (int i = 0; i < 10_000; i++)
        {
            entries[System.Text.Encoding.ASCII.GetBytes($"key{i:D6}")] = new byte[100];
        }

        MemFileSystem fs = TestTables.NewFileSystem();
        TableProperties props = TestTables.Build(fs, TestTables.PathOf(5), entries, TableOptions.Default);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(5), 5, TableOptions.Default);

        Assert.Equal(0, reader.ApproximateOffsetOf(""u8));
        long middle = reader.ApproximateOffsetOf("key005000"u8);
        Assert.InRange(middle, props.DataSize * 4 / 10, props.DataSize * 6 / 10);
        Assert.Equal(props.DataSize, reader.ApproximateOffsetOf("zzz"u8));
        long previous = -1;
        for (int i = 0; i < 10_000; i += 250)
        {
            long offset = reader.ApproximateOffsetOf(System.Text.Encoding.ASCII.GetBytes($"key{i:D6}"));
            Assert.True(offset >= previous);
            previous = offset;
        }
    }

    [Fact]
    public void BuilderRejectsUnorderedKeysAndUseAfterFinish()
    {
        MemFileSystem fs = TestTables.NewFileSystem();
        using IWritableFile file = fs.CreateWritable(TestTables.PathOf(6));
        var builder = new TableBuilder(file, TableOptions.Default);
        builder.Add("b"u8, "1"u8);
        long length = file.Length;
        Assert.Throws<ArgumentException>(() => builder.Add("a"u8, "2"u8));
        Assert.Throws<ArgumentException>(() => builder.Add("b"u8, "2"u8));
        Assert.Equal(length, file.Length);
        builder.Add("c"u8, "3"u8);
        builder.Finish();
        Assert.Throws<InvalidOperationException>(() => builder.Add("d"u8, "4"u8));
        Assert.Throws<InvalidOperationException>(() => builder.Finish());
    }

    [Fact]
    public void InvalidOptionsAreRejectedByName()
    {
        MemFileSystem fs = TestTables.NewFileSystem();
        using IWritableFile file = fs.CreateWritable(TestTables.PathOf(7));
        ArgumentException e = Assert.Throws<ArgumentException>(() => new TableBuilder(file, new TableOptions { BlockRestartInterval = 0 }));
        Assert.Equal("BlockRestartInterval", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new TableBuilder(file, new TableOptions { BloomBitsPerKey = -1 }));
        Assert.Equal("BloomBitsPerKey", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new TableBuilder(file, new TableOptions { BlockSizeBytes = 1 }));
        Assert.Equal("BlockSizeBytes", e.ParamName);
    }

    [Fact]
    public void ReadingWithAnotherComparerIsRefused()
    {
        MemFileSystem fs = TestTables.NewFileSystem();
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise) { ["k"u8.ToArray()] = [] };
        TestTables.Build(fs, TestTables.PathOf(8), entries, TableOptions.Default);
        var e = Assert.Throws<CorruptionException>(() =>
            TestTables.Open(fs, TestTables.PathOf(8), 8, new TableOptions { Comparer = InternalKeyComparer.Instance }));
        Assert.Contains("comparer", e.Message);
    }

    [Fact]
    public void BloomFilterSkipsBlockReadsForAbsentKeys()
    {
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        for (int i = 0; i < 5000; i++)
        {
            entries[System.Text.Encoding.ASCII.GetBytes($"key{i:D6}")] = new byte[50];
        }

        MemFileSystem fs = TestTables.NewFileSystem();
        TestTables.Build(fs, TestTables.PathOf(9), entries, TableOptions.Default);
        var cache = new BlockCache(8 << 20);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(9), 9, TableOptions.Default, cache);
        for (int i = 0; i < 5000; i++)
        {
            Assert.False(reader.TryGet(System.Text.Encoding.ASCII.GetBytes($"key{i:D6}x"), out _, out _));
        }

        BlockCacheStatistics stats = cache.GetStatistics();

        // About 1% of the lookups get past the filter; without it every lookup would touch a block.
        Assert.InRange(stats.Hits + stats.Misses, 0, 150);
    }

    private static byte[] RandomAbsentKey(Random random, SortedDictionary<byte[], byte[]> entries)
    {
        while (true)
        {
            var key = new byte[random.Next(0, 26)];
            for (int i = 0; i < key.Length; i++)
            {
                key[i] = i < 3 ? (byte)random.Next(0, 5) : (byte)random.Next(0, 256);
            }

            if (!entries.ContainsKey(key))
            {
                return key;
            }
        }
    }

    private static int LowerBound(List<KeyValuePair<byte[], byte[]>> model, byte[] target)
    {
        int lo = 0, hi = model.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (model[mid].Key.AsSpan().SequenceCompareTo(target) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
