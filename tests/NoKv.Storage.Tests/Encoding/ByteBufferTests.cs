using NoKv.Storage.Encoding;
using Xunit;

namespace NoKv.Storage.Tests.Encoding;

public sealed class ByteBufferTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Grows_past_a_large_object_and_keeps_every_byte(bool pooled)
    {
        ByteBuffer buffer = pooled ? ByteBuffer.Pooled(16) : new ByteBuffer(16);
        var expected = new List<byte>();
        var rng = new Random(7);
        byte[] varint = new byte[5];
        while (expected.Count < 300_000)
        {
            byte[] chunk = new byte[rng.Next(1, 5_000)];
            rng.NextBytes(chunk);
            buffer.Append(chunk);
            expected.AddRange(chunk);
            uint mark = (uint)expected.Count;
            buffer.AppendVarint32(mark);
            expected.AddRange(varint.AsSpan(0, Varint.Write32(varint, mark)).ToArray());
        }

        Assert.Equal(expected.Count, buffer.Length);
        Assert.True(buffer.WrittenSpan.SequenceEqual(expected.ToArray()));
    }

    [Fact]
    public void A_released_pooled_buffer_is_empty_and_builds_again()
    {
        ByteBuffer buffer = ByteBuffer.Pooled(64);
        buffer.Append(new byte[200_000]);
        buffer.Release();
        Assert.Equal(0, buffer.Length);
        Assert.True(buffer.WrittenSpan.IsEmpty);

        byte[] again = [1, 2, 3, 4, 5];
        buffer.Append(again);
        buffer.AppendFixed32(0xDEADBEEF);
        Assert.Equal(9, buffer.Length);
        Assert.True(buffer.WrittenSpan[..5].SequenceEqual(again));
        Assert.Equal(0xDEADBEEFu, Fixed.Read32(buffer.WrittenSpan[5..]));
        buffer.Release();
        buffer.Release();
    }
}
