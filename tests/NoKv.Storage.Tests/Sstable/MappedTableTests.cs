using NoKv.Storage.Cache;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

/// <summary>
/// Tables read through a mapping (physical mmap, pinned in-memory buffer) against the positional-read path:
/// same answers, same corruption reports, and a mapping that outlives eviction and deletion while in use.
/// </summary>
public sealed class MappedTableTests : IDisposable
{
    private const int Seed = 4242;

    private static readonly TableOptions Pread = new() { BlockSizeBytes = 512, BlockRestartInterval = 4, BloomBitsPerKey = 10 };
    private static readonly TableOptions Mapped = new() { BlockSizeBytes = 512, BlockRestartInterval = 4, BloomBitsPerKey = 10, UseMappedReads = true };

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "nokv-mapped-" + Guid.NewGuid().ToString("N"));

    public MappedTableTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PreparedSeekLandsWhereAPlainSeekDoes(bool physical)
    {
        string context = $"seed={Seed} physical={physical}";
        var random = new Random(Seed);
        SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(random, 3000, 24, 200, ByteArrayComparer.Bytewise);
        (IFileSystem fs, string path) = NewTable(physical, 1, entries);
        using TableReader reader = TestTables.Open(fs, path, 1, Mapped, new BlockCache(1 << 20));
        using var plain = new TableIterator(reader, fillCache: false);
        using var prepared = new TableIterator(reader, fillCache: false);
        for (int i = 0; i < 2000; i++)
        {
            var probe = new byte[random.Next(0, 26)];
            random.NextBytes(probe);
            plain.Seek(probe);
            prepared.PrepareSeek(probe);

            // Not positioned between the two halves of the seek.
            Assert.False(prepared.Valid, context);
            Assert.Throws<InvalidOperationException>(prepared.Next);
            prepared.Seek(probe);
            for (int step = 0; step < 3 && plain.Valid; step++, plain.Next(), prepared.Next())
            {
                Assert.True(prepared.Valid && plain.Key.SequenceEqual(prepared.Key) && plain.Value.SequenceEqual(prepared.Value), $"{context} probe {i} step {step}");
            }

            Assert.Equal(plain.Valid, prepared.Valid);
        }

        // A prepared iterator that is repositioned some other way forgets the preparation.
        prepared.PrepareSeek(entries.Keys.Last());
        prepared.SeekToFirst();
        Assert.True(prepared.Valid && prepared.Key.SequenceEqual(entries.Keys.First()), context);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MappedReadsEqualPositionalReads(bool physical)
    {
        string context = $"seed={Seed} physical={physical}";
        var random = new Random(Seed);
        SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(random, 3000, 24, 200, ByteArrayComparer.Bytewise);
        (IFileSystem fs, string path) = NewTable(physical, 1, entries);

        using TableReader viaPread = TestTables.Open(fs, path, 1, Pread, new BlockCache(1 << 20));
        using TableReader viaMapping = TestTables.Open(fs, path, 1, Mapped, new BlockCache(1 << 20));
        Assert.False(viaPread.IsMapped, context);
        Assert.True(viaMapping.IsMapped, context);

        foreach (KeyValuePair<byte[], byte[]> e in entries)
        {
            Assert.True(viaMapping.TryGet(e.Key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value), context);
            Assert.True(foundKey.SequenceEqual(e.Key) && value.SequenceEqual(e.Value), context);
        }

        for (int i = 0; i < 2000; i++)
        {
            var probe = new byte[random.Next(0, 26)];
            random.NextBytes(probe);
            bool expected = viaPread.TryGet(probe, out ReadOnlySpan<byte> k1, out ReadOnlySpan<byte> v1);
            byte[] expectedKey = k1.ToArray(), expectedValue = v1.ToArray();
            Assert.Equal(expected, viaMapping.TryGet(probe, out ReadOnlySpan<byte> k2, out ReadOnlySpan<byte> v2));
            Assert.True(k2.SequenceEqual(expectedKey) && v2.SequenceEqual(expectedValue), context);
        }

        using IInternalIterator a = viaPread.NewIterator();
        using IInternalIterator b = viaMapping.NewIterator();
        int count = 0;
        for (a.SeekToFirst(), b.SeekToFirst(); a.Valid; a.Next(), b.Next(), count++)
        {
            Assert.True(b.Valid && a.Key.SequenceEqual(b.Key) && a.Value.SequenceEqual(b.Value), $"{context} forward entry {count}");
        }

        Assert.False(b.Valid, context);
        Assert.Equal(entries.Count, count);
        for (a.SeekToLast(), b.SeekToLast(); a.Valid; a.Prev(), b.Prev())
        {
            Assert.True(b.Valid && a.Key.SequenceEqual(b.Key) && a.Value.SequenceEqual(b.Value), $"{context} backward");
        }

        Assert.False(b.Valid, context);
        for (int i = 0; i < 500; i++)
        {
            var target = new byte[random.Next(0, 26)];
            random.NextBytes(target);
            a.Seek(target);
            b.Seek(target);
            for (int step = 0; step < 5 && a.Valid; step++, a.Next(), b.Next())
            {
                Assert.True(b.Valid && a.Key.SequenceEqual(b.Key) && a.Value.SequenceEqual(b.Value), $"{context} seek {i}");
            }

            Assert.Equal(a.Valid, b.Valid);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BlockHandlesOutsideTheDataAreCorruptionNotWildReads(bool mapped)
    {
        (IFileSystem fs, string path) = NewTable(physical: true, 1, Entries(100));
        using TableReader reader = TestTables.Open(fs, path, 1, mapped ? Mapped : Pread);
        Assert.Equal(mapped, reader.IsMapped);
        long length = fs.GetFileLength(path);
        foreach (BlockHandle handle in new[]
                 {
                     new BlockHandle(long.MaxValue - 10, 100),
                     new BlockHandle(long.MaxValue - int.MaxValue, int.MaxValue),
                     new BlockHandle(0, int.MaxValue),
                     new BlockHandle(length - 8, 4),
                     new BlockHandle(length, 0),
                 })
        {
            var encoded = new byte[BlockHandle.MaxEncodedLength];
            int n = handle.EncodeTo(encoded);
            byte[] value = encoded[..n];
            CorruptionException e = Assert.Throws<CorruptionException>(() => reader.ReadDataBlock(value, fillCache: false, out _));
            Assert.Equal(path, e.Path);
        }
    }

    [Fact]
    public void FaultInjectingFilesAreNeverMapped()
    {
        MemFileSystem inner = TestTables.NewFileSystem();
        TestTables.Build(inner, TestTables.PathOf(1), Entries(50), Pread);
        var fs = new FaultInjectingFileSystem(inner, new NthOperationFaultInjector(FileOperation.Read, long.MaxValue, FaultAction.Fail));
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(1), 1, Mapped);
        Assert.False(reader.IsMapped);
        Assert.True(reader.TryGet(Key(7), out _, out ReadOnlySpan<byte> value));
        Assert.True(value.SequenceEqual(Value(7)));
    }

    [Fact]
    public void DamageToAMappedPhysicalTableIsReportedOnEveryReadWithPathAndOffset()
    {
        SortedDictionary<byte[], byte[]> entries = Entries(200);
        (IFileSystem fs, string path) = NewTable(physical: true, 1, entries);
        using TableReader reader = TestTables.Open(fs, path, 1, Mapped);
        Assert.True(reader.IsMapped);
        byte[] first = Key(0);
        Assert.True(reader.TryGet(first, out _, out _));

        // Damage the first data block in place, under the live mapping (a shared mapping sees the write).
        byte original = WriteByteAt(path, 10, null);
        WriteByteAt(path, 10, (byte)(original ^ 0x20));
        CorruptionException e = Assert.Throws<CorruptionException>(() => reader.TryGet(first, out _, out _));
        Assert.Equal(path, e.Path);
        Assert.Equal(0, e.Offset);
        using (IInternalIterator it = reader.NewIterator())
        {
            Assert.Throws<CorruptionException>(it.SeekToFirst);
            Assert.False(it.Valid);
        }

        // Other blocks still read; repairing the byte makes the block readable again (nothing was cached).
        Assert.True(reader.TryGet(Key(199), out _, out ReadOnlySpan<byte> last));
        Assert.True(last.SequenceEqual(Value(199)));
        WriteByteAt(path, 10, original);
        Assert.True(reader.TryGet(first, out _, out ReadOnlySpan<byte> repaired));
        Assert.True(repaired.SequenceEqual(Value(0)));
    }

    [Fact]
    public void AnIteratorKeepsAnEvictedAndDeletedMappedTableReadable()
    {
        SortedDictionary<byte[], byte[]> entries = Entries(500);
        (IFileSystem fs, _) = NewTable(physical: true, 1, entries);
        using var cache = new TableCache(fs, PhysicalPathOf, Mapped, blockCache: null, capacity: 4);
        using IInternalIterator it = cache.NewIterator(1);
        it.Seek(Key(100));
        Assert.True(it.Valid);

        // What compaction does to an obsolete table: evict it, then delete the file.
        cache.Evict(1);
        fs.DeleteFile(PhysicalPathOf(1));
        Assert.False(File.Exists(PhysicalPathOf(1)));

        // Fill the cache with other tables too, so nothing but the iterator's reference keeps table 1 open.
        for (long n = 2; n <= 6; n++)
        {
            NewTable(physical: true, n, Entries(10));
            TableCacheEntry other = cache.Acquire(n);
            Assert.True(other.Reader.TryGet(Key(3), out _, out _));
            other.Release();
        }

        for (int i = 100; i < 500; i++, it.Next())
        {
            Assert.True(it.Valid && it.Key.SequenceEqual(Key(i)) && it.Value.SequenceEqual(Value(i)), $"entry {i}");
        }

        Assert.False(it.Valid);
        it.SeekToFirst();
        Assert.True(it.Valid && it.Key.SequenceEqual(Key(0)));
    }

    [Fact]
    public void ConcurrentReadersWithEvictionNeverTouchAnUnmappedTable()
    {
        // Eight physical tables behind a cache of three: tables are evicted and unmapped all the time while
        // other threads read them; a read through an unmapped table would crash the process or return garbage.
        const int tables = 8;
        for (long n = 1; n <= tables; n++)
        {
            NewTable(physical: true, n, Entries(300));
        }

        using var cache = new TableCache(PhysicalFileSystem.Instance, PhysicalPathOf, Mapped, blockCache: null, capacity: 3);
        int errors = 0;
        var threads = new Thread[3];
        for (int t = 0; t < threads.Length; t++)
        {
            int threadSeed = Seed + t;
            threads[t] = new Thread(() =>
            {
                var random = new Random(threadSeed);
                for (int i = 0; i < 3000; i++)
                {
                    long file = random.Next(1, tables + 1);
                    int k = random.Next(300);
                    if (i % 10 == 0)
                    {
                        using IInternalIterator it = cache.NewIterator(file);
                        it.Seek(Key(k));
                        for (int j = k; j < Math.Min(k + 30, 300); j++, it.Next())
                        {
                            if (!it.Valid || !it.Key.SequenceEqual(Key(j)) || !it.Value.SequenceEqual(Value(j)))
                            {
                                Interlocked.Increment(ref errors);
                                break;
                            }
                        }

                        continue;
                    }

                    TableCacheEntry entry = cache.Acquire(file);
                    try
                    {
                        if (!entry.Reader.IsMapped || !entry.Reader.TryGet(Key(k), out _, out ReadOnlySpan<byte> value) || !value.SequenceEqual(Value(k)))
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                    finally
                    {
                        entry.Release();
                    }
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "reader thread did not finish");
        }

        Assert.Equal(0, errors);
        Assert.True(cache.GetStatistics().Evictions > 0, "the test needs evictions");
        Assert.Throws<InvalidOperationException>(() => cache.TryGet(1, Key(1), out _, out _));
    }

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D6}");

    private static byte[] Value(int i) => System.Text.Encoding.ASCII.GetBytes($"value-{i}-{new string('v', i % 37)}");

    private static SortedDictionary<byte[], byte[]> Entries(int count)
    {
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        for (int i = 0; i < count; i++)
        {
            entries[Key(i)] = Value(i);
        }

        return entries;
    }

    private string PhysicalPathOf(long fileNumber) => Path.Combine(_directory, $"{fileNumber:D6}.sst");

    private (IFileSystem Fs, string Path) NewTable(bool physical, long fileNumber, SortedDictionary<byte[], byte[]> entries)
    {
        IFileSystem fs = physical ? PhysicalFileSystem.Instance : TestTables.NewFileSystem();
        string path = physical ? PhysicalPathOf(fileNumber) : TestTables.PathOf(fileNumber);
        TestTables.Build(fs, path, entries, Pread);
        return (fs, path);
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="offset"/> in place (when given); returns the byte that was there.</summary>
    private static byte WriteByteAt(string path, long offset, byte? value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = offset;
        int previous = stream.ReadByte();
        if (value is { } v)
        {
            stream.Position = offset;
            stream.WriteByte(v);
            stream.Flush(flushToDisk: false);
        }

        return (byte)previous;
    }
}
