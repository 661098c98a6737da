using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;
using Xunit;

namespace NoKv.Storage.Tests.Wal;

public sealed class LogFormatTests
{
    private static List<byte[]> Records(int seed, int count)
    {
        var rng = new Random(seed);
        var list = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            // Mix tiny records, records that straddle blocks, and multi-block records.
            int size = rng.Next(10) switch
            {
                0 => 0,
                1 => 32 * 1024 - 7 - rng.Next(3),
                2 => rng.Next(100_000),
                _ => rng.Next(300),
            };
            byte[] r = new byte[size];
            rng.NextBytes(r);
            list.Add(r);
        }

        return list;
    }

    private static byte[] Write(List<byte[]> records)
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory("/l");
        using (var w = new LogWriter(fs.CreateWritable("/l/x.log")))
        {
            foreach (byte[] r in records)
            {
                w.AddRecord(r);
            }
        }

        return fs.ReadAllBytes("/l/x.log");
    }

    private static List<byte[]> Read(byte[] file, out bool torn)
    {
        using var reader = new LogReader(new MemoryStream(file), "x.log");
        var result = new List<byte[]>();
        while (reader.TryReadRecord(out ReadOnlySpan<byte> r))
        {
            result.Add(r.ToArray());
        }

        torn = reader.HitTornTail;
        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Records_round_trip_across_block_boundaries(int seed)
    {
        List<byte[]> records = Records(seed, 200);
        List<byte[]> read = Read(Write(records), out bool torn);
        Assert.False(torn);
        Assert.Equal(records.Count, read.Count);
        for (int i = 0; i < records.Count; i++)
        {
            Assert.Equal(records[i], read[i]);
        }
    }

    [Fact]
    public void Chunk_header_is_crc_length_type()
    {
        byte[] file = Write([[1, 2, 3]]);
        Assert.Equal(7 + 3, file.Length);
        Assert.Equal(3, file[4]);
        Assert.Equal(0, file[5]);
        Assert.Equal(1, file[6]);
        uint crc = NoKv.Storage.Encoding.Crc32C.Extend(NoKv.Storage.Encoding.Crc32C.Compute([1]), [1, 2, 3]);
        Assert.Equal(NoKv.Storage.Encoding.Crc32C.Mask(crc), BitConverter.ToUInt32(file, 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_truncation_yields_a_prefix_of_the_records(int seed)
    {
        List<byte[]> records = Records(seed, 60);
        byte[] file = Write(records);
        var rng = new Random(seed);
        for (int cut = 0; cut < 40; cut++)
        {
            int length = rng.Next(file.Length + 1);
            List<byte[]> read = Read(file[..length], out _);
            Assert.True(read.Count <= records.Count);
            for (int i = 0; i < read.Count; i++)
            {
                Assert.Equal(records[i], read[i]);
            }
        }
    }

    [Fact]
    public void Garbage_tail_is_a_torn_tail_but_damage_before_intact_blocks_is_corruption()
    {
        List<byte[]> records = Records(9, 300);
        byte[] file = Write(records);
        Assert.True(file.Length > 4 * 32 * 1024);

        byte[] tail = (byte[])file.Clone();
        for (int i = tail.Length - 50; i < tail.Length; i++)
        {
            tail[i] ^= 0x33;
        }

        List<byte[]> read = Read(tail, out bool torn);
        Assert.True(torn);
        Assert.True(read.Count < records.Count);

        byte[] middle = (byte[])file.Clone();
        middle[100] ^= 0x01;
        var e = Assert.Throws<CorruptionException>(() => Read(middle, out _));
        Assert.Equal("x.log", e.Path);
        Assert.InRange(e.Offset, 0, 100);
    }
}
