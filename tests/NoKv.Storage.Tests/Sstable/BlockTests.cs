using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

public class BlockTests
{
    [Fact]
    public void LayoutMatchesTheDocumentedFormat()
    {
        // The example in docs/format-sstable.md: three entries, restart interval 2.
        var builder = new BlockBuilder(restartInterval: 2);
        builder.Add("apple"u8, "1"u8);
        builder.Add("apply"u8, "22"u8);
        builder.Add("banana"u8, ""u8);
        byte[] expected =
        [
            0x00, 0x05, 0x01, (byte)'a', (byte)'p', (byte)'p', (byte)'l', (byte)'e', (byte)'1',   // offset 0
            0x04, 0x01, 0x02, (byte)'y', (byte)'2', (byte)'2',                                     // offset 9
            0x00, 0x06, 0x00, (byte)'b', (byte)'a', (byte)'n', (byte)'a', (byte)'n', (byte)'a',   // offset 15 (restart)
            0x00, 0x00, 0x00, 0x00,   // restart[0] = 0
            0x0F, 0x00, 0x00, 0x00,   // restart[1] = 15
            0x02, 0x00, 0x00, 0x00,   // num_restarts = 2
        ];
        Assert.Equal(expected, builder.Finish().ToArray());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(16, 3)]
    [InlineData(1000, 4)]
    public void ForwardBackwardAndSeekMatchModel(int restartInterval, int seed)
    {
        var random = new Random(seed);
        SortedDictionary<byte[], byte[]> entries = TestTables.RandomEntries(random, 500, 12, 20, ByteArrayComparer.Bytewise);
        var builder = new BlockBuilder(restartInterval);
        foreach (KeyValuePair<byte[], byte[]> e in entries)
        {
            builder.Add(e.Key, e.Value);
        }

        byte[] contents = builder.Finish().ToArray();
        var block = Block.Parse(contents, contents.Length, "mem", 0);
        var it = new BlockIterator(block, BytewiseComparer.Instance);
        List<KeyValuePair<byte[], byte[]>> model = [.. entries];
        string context = $"seed={seed} restartInterval={restartInterval}";

        int i = 0;
        for (it.SeekToFirst(); it.Valid; it.Next(), i++)
        {
            Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
            Assert.True(model[i].Value.AsSpan().SequenceEqual(it.Value), context);
        }

        Assert.Equal(model.Count, i);

        i = model.Count - 1;
        for (it.SeekToLast(); it.Valid; it.Prev(), i--)
        {
            Assert.True(model[i].Key.AsSpan().SequenceEqual(it.Key), context);
        }

        Assert.Equal(-1, i);

        for (int probe = 0; probe < 300; probe++)
        {
            byte[] target = probe % 2 == 0 ? model[random.Next(model.Count)].Key : RandomKey(random);
            int expected = LowerBound(model, target);
            it.Seek(target);
            if (expected == model.Count)
            {
                Assert.False(it.Valid, context);
                continue;
            }

            Assert.True(it.Valid, context);
            Assert.True(model[expected].Key.AsSpan().SequenceEqual(it.Key), context);

            // Prev from a seek position lands on the entry just before it.
            it.Prev();
            if (expected == 0)
            {
                Assert.False(it.Valid, context);
            }
            else
            {
                Assert.True(model[expected - 1].Key.AsSpan().SequenceEqual(it.Key), context);
                it.Next();
                Assert.True(model[expected].Key.AsSpan().SequenceEqual(it.Key), context);
            }
        }
    }

    [Fact]
    public void EmptyBlockIsNeverValid()
    {
        var builder = new BlockBuilder(16);
        byte[] contents = builder.Finish().ToArray();
        Assert.Equal(8, contents.Length);
        var it = new BlockIterator(Block.Parse(contents, contents.Length, "mem", 0), BytewiseComparer.Instance);
        it.SeekToFirst();
        Assert.False(it.Valid);
        it.SeekToLast();
        Assert.False(it.Valid);
        it.Seek("x"u8);
        Assert.False(it.Valid);
    }

    [Fact]
    public void MalformedRestartCountIsCorruption()
    {
        byte[] contents = [0x00, 0x01, 0x00, (byte)'a', 0, 0, 0, 0, 9, 0, 0, 0];
        CorruptionException e = Assert.Throws<CorruptionException>(() => Block.Parse(contents, contents.Length, "file.sst", 123));
        Assert.Equal("file.sst", e.Path);
        Assert.Equal(123, e.Offset);
        Assert.Throws<CorruptionException>(() => Block.Parse([1, 0], 2, "file.sst", 0));
    }

    [Fact]
    public void EntryRunningPastTheRestartsIsCorruption()
    {
        // One entry claiming a 100-byte value inside a 12-byte block.
        byte[] contents = [0x00, 0x01, 0x64, (byte)'a', 0, 0, 0, 0, 1, 0, 0, 0];
        var it = new BlockIterator(Block.Parse(contents, contents.Length, "file.sst", 77), BytewiseComparer.Instance);
        CorruptionException e = Assert.Throws<CorruptionException>(it.SeekToFirst);
        Assert.Equal(77, e.Offset);
    }

    [Fact]
    public void SharedPrefixLongerThanPreviousKeyIsCorruption()
    {
        byte[] contents = [0x00, 0x01, 0x00, (byte)'a', 0x05, 0x01, 0x00, (byte)'b', 0, 0, 0, 0, 1, 0, 0, 0];
        var it = new BlockIterator(Block.Parse(contents, contents.Length, "file.sst", 0), BytewiseComparer.Instance);
        it.SeekToFirst();
        Assert.True(it.Valid);
        Assert.Throws<CorruptionException>(it.Next);
    }

    private static byte[] RandomKey(Random random)
    {
        var key = new byte[random.Next(0, 13)];
        for (int i = 0; i < key.Length; i++)
        {
            key[i] = i < 3 ? (byte)random.Next(0, 5) : (byte)random.Next(0, 256);
        }

        return key;
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
