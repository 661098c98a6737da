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

    private static List<byte[]> Read(byte[] file, out bool torn) => Read(file, out torn, out _);

    /// <summary>The intact prefix; <paramref name="torn"/> when it ended at damage rather than cleanly.</summary>
    private static List<byte[]> Read(byte[] file, out bool torn, out LogReader reader)
    {
        reader = new LogReader(new MemoryStream(file), "x.log");
        var result = new List<byte[]>();
        while (reader.TryReadRecord(out ReadOnlySpan<byte> r))
        {
            result.Add(r.ToArray());
        }

        torn = reader.Damage is not null;
        reader.Dispose();
        return result;
    }

    /// <summary>The manifest's reading: damage before an intact record start is corruption.</summary>
    private static List<byte[]> ReadManifestStyle(byte[] file)
    {
        List<byte[]> result = Read(file, out _, out LogReader reader);
        reader.ThrowIfRecordsFollowDamage();
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
    public void Garbage_tail_is_a_torn_tail_but_damage_before_intact_records_is_reported_with_what_follows()
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
        read = Read(middle, out torn, out LogReader reader);
        Assert.True(torn);
        Assert.InRange(reader.Damage!.Offset, 0, 100);
        Assert.True(reader.Tail.FirstRecordStart > 100, "the records after the damaged one are found by the tail scan");
        Assert.Equal(file.Length, reader.Tail.DataEnd);
        var e = Assert.Throws<CorruptionException>(() => ReadManifestStyle(middle));
        Assert.Equal("x.log", e.Path);
        Assert.InRange(e.Offset, 0, 100);
    }
    private static byte[] WithZeros(byte[] file, int zeros)
    {
        byte[] result = new byte[file.Length + zeros];
        file.CopyTo(result, 0);
        return result;
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 5)]
    [InlineData(3, 40_000)]
    [InlineData(4, 1 << 20)]
    public void Zeros_after_the_last_record_are_the_clean_end_of_the_log(int seed, int zeros)
    {
        // What a log whose file was zero-filled ahead of the writer looks like after a crash or a clean close.
        List<byte[]> records = Records(seed, 50);
        List<byte[]> read = Read(WithZeros(Write(records), zeros), out bool torn);
        Assert.False(torn);
        Assert.Equal(records.Count, read.Count);
        for (int i = 0; i < records.Count; i++)
        {
            Assert.Equal(records[i], read[i]);
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Torn_record_followed_by_zeros_is_a_torn_tail(int seed)
    {
        List<byte[]> records = Records(seed, 40);
        records.Add(new byte[3000]);
        new Random(seed).NextBytes(records[^1]);
        byte[] file = Write(records);

        // Cut the last record short (its unsynced pages were lost) and fill the rest with zeros.
        byte[] torn = WithZeros(file[..(file.Length - 1000)], 70_000);
        List<byte[]> read = Read(torn, out bool hitTorn);
        Assert.True(hitTorn);
        Assert.Equal(records.Count - 1, read.Count);
        for (int i = 0; i < read.Count; i++)
        {
            Assert.Equal(records[i], read[i]);
        }
    }

    [Fact]
    public void Zeros_inside_a_fragmented_record_are_a_torn_tail_not_a_clean_end()
    {
        byte[] big = new byte[100_000];
        new Random(8).NextBytes(big);
        byte[] file = Write([[1, 2, 3], big]);

        // Keep the small record and the big record's first chunk; its later chunks read as zeros.
        byte[] torn = new byte[file.Length + 32 * 1024];
        file.AsSpan(0, 32 * 1024).CopyTo(torn);
        List<byte[]> read = Read(torn, out bool hitTorn);
        Assert.True(hitTorn);
        Assert.Single(read);
    }

    [Fact]
    public void Damage_before_intact_records_is_corruption_even_with_a_zero_tail()
    {
        List<byte[]> records = Records(9, 300);
        byte[] file = WithZeros(Write(records), 1 << 20);
        Assert.True(file.Length > 4 * 32 * 1024);

        byte[] flipped = (byte[])file.Clone();
        flipped[100] ^= 0x01;
        var e = Assert.Throws<CorruptionException>(() => ReadManifestStyle(flipped));
        Assert.InRange(e.Offset, 0, 100);

        // A zeroed chunk header mid-log is not the end of the log when intact blocks follow it.
        byte[] zeroed = (byte[])file.Clone();
        Array.Clear(zeroed, 0, 7);
        Assert.Empty(Read(zeroed, out bool torn, out LogReader reader));
        Assert.True(torn);
        Assert.Equal(0, reader.Damage!.Offset);
        e = Assert.Throws<CorruptionException>(() => ReadManifestStyle(zeroed));
        Assert.Equal(0, e.Offset);
    }
}
