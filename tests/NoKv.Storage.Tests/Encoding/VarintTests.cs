using NoKv.Storage.Encoding;
using Xunit;

namespace NoKv.Storage.Tests.Encoding;

public class VarintTests
{
    [Theory]
    [InlineData(0u, new byte[] { 0x00 })]
    [InlineData(1u, new byte[] { 0x01 })]
    [InlineData(127u, new byte[] { 0x7F })]
    [InlineData(128u, new byte[] { 0x80, 0x01 })]
    [InlineData(300u, new byte[] { 0xAC, 0x02 })]
    [InlineData(16384u, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void Encodes32AsSpecified(uint value, byte[] expected)
    {
        Span<byte> buffer = stackalloc byte[Varint.MaxLength32];
        int written = Varint.Write32(buffer, value);
        Assert.Equal(expected, buffer.Slice(0, written).ToArray());
        Assert.Equal(expected.Length, Varint.Length32(value));
        Assert.Equal(expected.Length, Varint.TryRead32(expected, out uint decoded));
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void RoundTrips32And64AcrossBitWidths()
    {
        const int seed = 64;
        var random = new Random(seed);
        Span<byte> buffer = stackalloc byte[Varint.MaxLength64 + 3];
        for (int bits = 0; bits <= 64; bits++)
        {
            for (int i = 0; i < 50; i++)
            {
                ulong randomBits = (ulong)random.NextInt64(long.MinValue, long.MaxValue);
                ulong value = bits == 0 ? 0 : (randomBits >> (64 - bits)) | (1UL << (bits - 1));
                buffer.Fill(0xEE);
                int written = Varint.Write64(buffer, value);
                Assert.True(written == Varint.Length64(value), $"seed={seed} value={value}");
                Assert.Equal(written, Varint.TryRead64(buffer, out ulong decoded));
                Assert.Equal(value, decoded);
                if (value <= uint.MaxValue)
                {
                    Assert.Equal(written, Varint.Write32(buffer, (uint)value));
                    Assert.Equal(written, Varint.TryRead32(buffer, out uint decoded32));
                    Assert.Equal((uint)value, decoded32);
                }
            }
        }
    }

    [Fact]
    public void TruncatedInputIsRejected()
    {
        Span<byte> buffer = stackalloc byte[Varint.MaxLength64];
        int written = Varint.Write64(buffer, ulong.MaxValue);
        Assert.Equal(Varint.MaxLength64, written);
        for (int length = 0; length < written; length++)
        {
            Assert.Equal(0, Varint.TryRead64(buffer.Slice(0, length), out _));
        }

        written = Varint.Write32(buffer, 1u << 30);
        for (int length = 0; length < written; length++)
        {
            Assert.Equal(0, Varint.TryRead32(buffer.Slice(0, length), out _));
        }
    }

    [Fact]
    public void OverlongAndOverflowingInputIsRejected()
    {
        // Six continuation bytes can never be a uint.
        Assert.Equal(0, Varint.TryRead32(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, out _));

        // Fifth byte carrying more than the 4 remaining bits overflows 32 bits.
        Assert.Equal(0, Varint.TryRead32(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F }, out _));

        // Tenth byte carrying more than one bit overflows 64 bits.
        Assert.Equal(0, Varint.TryRead64(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 }, out _));

        // Eleven bytes is always too long.
        Assert.Equal(0, Varint.TryRead64(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, out _));
    }

    [Fact]
    public void ConsecutiveValuesDecodeInSequence()
    {
        var buffer = new byte[64];
        int position = 0;
        uint[] values = [5, 200, 70000, uint.MaxValue, 0];
        foreach (uint v in values)
        {
            position += Varint.Write32(buffer.AsSpan(position), v);
        }

        int read = 0;
        foreach (uint expected in values)
        {
            int consumed = Varint.TryRead32(buffer.AsSpan(read, position - read), out uint decoded);
            Assert.True(consumed > 0);
            Assert.Equal(expected, decoded);
            read += consumed;
        }

        Assert.Equal(position, read);
    }
}
