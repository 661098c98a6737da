using System.Buffers.Binary;
using NoKv.Storage.Sstable;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.Storage.Tests.Sstable;

public class BloomFilterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(10, 0.0150)]
    [InlineData(16, 0.0020)]
    [InlineData(6, 0.0700)]
    public void MeasuredFalsePositiveRateIsNearTheory(int bitsPerKey, double maxRate)
    {
        const int keys = 20_000;
        const int probes = 200_000;
        var builder = new FilterBlockBuilder(new BloomFilterPolicy(bitsPerKey));
        var key = new byte[16];
        for (int i = 0; i < keys; i++)
        {
            KeyOf(key, i);
            builder.AddKey(key);
        }

        FilterBlockReader filter = FilterBlockReader.Parse(builder.Finish(), "mem", 0);
        for (int i = 0; i < keys; i++)
        {
            KeyOf(key, i);
            Assert.True(filter.MayContain(key), $"false negative for key {i}");
        }

        int falsePositives = 0;
        for (int i = keys; i < keys + probes; i++)
        {
            KeyOf(key, i);
            if (filter.MayContain(key))
            {
                falsePositives++;
            }
        }

        double rate = (double)falsePositives / probes;
        output.WriteLine($"bits/key={bitsPerKey} false positive rate={rate:P3}");
        Assert.True(rate <= maxRate, $"false positive rate {rate:P3} above {maxRate:P2} at {bitsPerKey} bits/key");
    }

    [Fact]
    public void ShortAndVaryingLengthKeysHaveNoFalseNegatives()
    {
        var builder = new FilterBlockBuilder(new BloomFilterPolicy(10));
        var added = new List<byte[]>();
        var random = new Random(5);
        for (int i = 0; i < 3000; i++)
        {
            var key = new byte[random.Next(0, 40)];
            random.NextBytes(key);
            added.Add(key);
            builder.AddKey(key);
        }

        FilterBlockReader filter = FilterBlockReader.Parse(builder.Finish(), "mem", 0);
        foreach (byte[] key in added)
        {
            Assert.True(filter.MayContain(key));
        }
    }

    [Fact]
    public void EmptyFilterContainsNothing()
    {
        var builder = new FilterBlockBuilder(new BloomFilterPolicy(10));
        FilterBlockReader filter = FilterBlockReader.Parse(builder.Finish(), "mem", 0);
        Assert.False(filter.MayContain("anything"u8));
    }

    [Fact]
    public void MalformedFilterBlocksAreCorruption()
    {
        var builder = new FilterBlockBuilder(new BloomFilterPolicy(10));
        builder.AddKey("a"u8);
        byte[] good = builder.Finish();

        byte[] badLayout = (byte[])good.Clone();
        badLayout[^1] = 99;
        Assert.Throws<CorruptionException>(() => FilterBlockReader.Parse(badLayout, "f", 0));

        byte[] badProbes = (byte[])good.Clone();
        badProbes[^2] = 0;
        Assert.Throws<CorruptionException>(() => FilterBlockReader.Parse(badProbes, "f", 0));

        Assert.Throws<CorruptionException>(() => FilterBlockReader.Parse(good[1..], "f", 0));
    }

    [Fact]
    public void HashIsStable()
    {
        // Filters on disk depend on these exact values: a change here breaks every existing table.
        Assert.Equal(KeyHash.Hash64("nokv"u8), KeyHash.Hash64("nokv"u8.ToArray()));
        Assert.NotEqual(KeyHash.Hash64("nokv"u8), KeyHash.Hash64("nokw"u8));
        Assert.NotEqual(KeyHash.Hash64(""u8), KeyHash.Hash64(new byte[1]));
        Assert.NotEqual(KeyHash.Hash64(new byte[8]), KeyHash.Hash64(new byte[9]));
    }

    private static void KeyOf(byte[] key, int i)
    {
        // Benchmark-shaped keys: 16 bytes, sequential numbers (the worst case for a weak hash).
        key.AsSpan().Clear();
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(8), i);
    }
}
