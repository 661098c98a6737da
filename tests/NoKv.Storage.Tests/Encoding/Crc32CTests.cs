using NoKv.Storage.Encoding;
using Xunit;

namespace NoKv.Storage.Tests.Encoding;

public class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void KnownVectors(string text, uint expected)
    {
        byte[] data = System.Text.Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.ComputeSoftware(data));
    }

    [Fact]
    public void Rfc3720Vectors()
    {
        // iSCSI (RFC 3720, B.4) test patterns.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
    }

    [Fact]
    public void HardwareAndSoftwareAgreeOnEveryLengthAndAlignment()
    {
        const int seed = 3720;
        var random = new Random(seed);
        var buffer = new byte[5000];
        random.NextBytes(buffer);
        for (int offset = 0; offset < 9; offset++)
        {
            for (int length = 0; length + offset <= buffer.Length; length += 1 + (length / 16))
            {
                ReadOnlySpan<byte> slice = buffer.AsSpan(offset, length);
                Assert.True(Crc32C.Compute(slice) == Crc32C.ComputeSoftware(slice), $"seed={seed} offset={offset} length={length}");
            }
        }
    }

    [Fact]
    public void ExtendEqualsComputeOfConcatenation()
    {
        const int seed = 42;
        var random = new Random(seed);
        var data = new byte[777];
        random.NextBytes(data);
        for (int split = 0; split <= data.Length; split += 37)
        {
            uint first = Crc32C.Compute(data.AsSpan(0, split));
            Assert.Equal(Crc32C.Compute(data), Crc32C.Extend(first, data.AsSpan(split)));
        }
    }

    [Fact]
    public void MaskChangesValueAndUnmaskInvertsIt()
    {
        uint crc = Crc32C.Compute("foo"u8);
        Assert.NotEqual(crc, Crc32C.Mask(crc));
        Assert.NotEqual(crc, Crc32C.Mask(Crc32C.Mask(crc)));
        Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        Assert.Equal(crc, Crc32C.Unmask(Crc32C.Unmask(Crc32C.Mask(Crc32C.Mask(crc)))));

        var random = new Random(7);
        for (int i = 0; i < 1000; i++)
        {
            uint value = (uint)random.NextInt64(0, 1L << 32);
            Assert.Equal(value, Crc32C.Unmask(Crc32C.Mask(value)));
        }
    }

    [Fact]
    public void SingleBitFlipChangesChecksum()
    {
        var data = new byte[256];
        new Random(1).NextBytes(data);
        uint original = Crc32C.Compute(data);
        for (int bit = 0; bit < data.Length * 8; bit++)
        {
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(original, Crc32C.Compute(data));
            data[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }
}
