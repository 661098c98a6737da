using NoKv.Replica.StateMachine;
using Xunit;

namespace NoKv.Replica.Tests.StateMachine;

/// <summary>
/// <see cref="SegmentedExportStream"/>: what a snapshot export writes (with lengths patched in afterwards) comes back
/// byte for byte, across segment boundaries, and no segment reaches the large object heap.
/// </summary>
public sealed class SegmentedExportStreamTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(SegmentedExportStream.SegmentSize - 1)]
    [InlineData(SegmentedExportStream.SegmentSize)]
    [InlineData(3 * SegmentedExportStream.SegmentSize + 17)]
    public void Writes_come_back_as_written_like_a_memory_stream(int size)
    {
        var random = new Random(size);
        var data = new byte[size];
        random.NextBytes(data);
        using var expected = new MemoryStream();
        using var actual = new SegmentedExportStream();

        // Uneven writes, then a length prefix patched in at a position that may straddle two segments.
        foreach (Stream stream in new Stream[] { expected, actual })
        {
            stream.Write(new byte[8]);
            for (int at = 0; at < size;)
            {
                int n = Math.Min(size - at, 1 + (at * 7919 % 70_001));
                stream.Write(data, at, n);
                at += n;
            }

            long end = stream.Position;
            stream.Position = Math.Max(0, size / 2 - 3);
            stream.Write(BitConverter.GetBytes((long)size));
            stream.Position = end;
            stream.WriteByte(0xAB);
        }

        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Fact]
    public void Segments_stay_below_the_large_object_threshold_and_seeking_past_the_end_is_refused()
    {
        Assert.True(SegmentedExportStream.SegmentSize < 85_000);
        using var stream = new SegmentedExportStream();
        stream.Write(new byte[10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Position = 11);
        Assert.Equal(10, stream.Seek(0, SeekOrigin.End));
    }
}
