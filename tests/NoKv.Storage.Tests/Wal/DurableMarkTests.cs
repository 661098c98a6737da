using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;
using Xunit;

namespace NoKv.Storage.Tests.Wal;

/// <summary>Durability marks written by the WAL writer, and what the reader reports after the intact prefix.</summary>
public sealed class DurableMarkTests
{
    private static (MemFileSystem Fs, LogWriter Writer) NewLog(ulong number, DurableMark? predecessor)
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory("/m");
        return (fs, new LogWriter(fs.CreateWritable("/m/x.log"), number, predecessor));
    }

    private static List<(bool Meta, byte[] Bytes, long End)> ReadAll(byte[] file, out LogReader reader)
    {
        reader = new LogReader(new MemoryStream(file), "x.log");
        var list = new List<(bool, byte[], long)>();
        while (reader.TryReadRecord(out ReadOnlySpan<byte> r, out bool meta))
        {
            list.Add((meta, r.ToArray(), reader.IntactEnd));
        }

        reader.Dispose();
        return list;
    }

    private static DurableMark Mark(byte[] meta)
    {
        Assert.True(DurableMark.TryDecode(meta, out DurableMark m));
        return m;
    }

    [Fact]
    public void Writer_marks_the_predecessor_then_each_completed_sync_before_the_next_record_and_seals_at_close()
    {
        var (fs, w) = NewLog(7, new DurableMark(6, 1234));
        w.AddRecord([1, 1, 1]);
        w.Sync();
        long firstSync = w.Length;
        w.AddRecord([2, 2]);
        w.AddRecord([3]);
        w.BeginSync();
        w.Sync();
        long secondSync = w.Length;
        w.Seal();
        w.Dispose();

        var records = ReadAll(fs.ReadAllBytes("/m/x.log"), out LogReader reader);
        Assert.Null(reader.Damage);
        Assert.Equal(6, records.Count);
        Assert.True(records[0].Meta);
        Assert.Equal(new DurableMark(6, 1234), Mark(records[0].Bytes));
        Assert.False(records[1].Meta);
        Assert.Equal(new byte[] { 1, 1, 1 }, records[1].Bytes);
        Assert.Equal(firstSync, records[1].End);
        Assert.Equal(new DurableMark(7, firstSync), Mark(records[2].Bytes));
        Assert.Equal(new byte[] { 2, 2 }, records[3].Bytes);
        Assert.Equal(new byte[] { 3 }, records[4].Bytes);
        Assert.Equal(secondSync, records[4].End);
        Assert.Equal(new DurableMark(7, secondSync), Mark(records[5].Bytes));
    }

    [Fact]
    public void Writer_without_a_sync_writes_no_sync_mark()
    {
        var (fs, w) = NewLog(3, null);
        w.AddRecord([1]);
        w.AddRecord([2]);
        w.Dispose();
        var records = ReadAll(fs.ReadAllBytes("/m/x.log"), out _);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.False(r.Meta));
    }

    [Fact]
    public void Mark_chunk_bytes_match_the_documented_layout()
    {
        // docs/format-wal.md: a mark is one meta record, kind 1, log number and offset as fixed64.
        var (fs, w) = NewLog(2, new DurableMark(1, 0x1234));
        w.Dispose();
        byte[] file = fs.ReadAllBytes("/m/x.log");
        Assert.Equal(
            "11-00-05-01-01-00-00-00-00-00-00-00-34-12-00-00-00-00-00-00",
            BitConverter.ToString(file, 4));
        uint crc = NoKv.Storage.Encoding.Crc32C.Extend(NoKv.Storage.Encoding.Crc32C.Compute([5]), file.AsSpan(7));
        Assert.Equal(NoKv.Storage.Encoding.Crc32C.Mask(crc), BitConverter.ToUInt32(file, 0));
    }

    [Fact]
    public void Mark_split_across_a_block_boundary_reads_whole_and_is_found_by_the_tail_scan()
    {
        var (fs, w) = NewLog(9, null);
        byte[] big = new byte[LogFormat.BlockSize - LogFormat.HeaderSize - 10];
        new Random(5).NextBytes(big);
        w.AddRecord(big);
        w.Sync();
        long synced = w.Length;
        w.AddRecord([42]);
        w.Dispose();
        byte[] file = fs.ReadAllBytes("/m/x.log");

        // The mark starts 10 bytes before the block's end: a first chunk of 3 bytes, the rest in the next block.
        Assert.Equal((byte)LogChunkType.MetaFirst, file[synced + 6]);
        var records = ReadAll(file, out _);
        Assert.Equal(3, records.Count);
        Assert.Equal(new DurableMark(9, synced), Mark(records[1].Bytes));

        // Damage the big record: the scan past it still assembles the mark from its two chunks.
        file[1000] ^= 0x40;
        records = ReadAll(file, out LogReader reader);
        Assert.Empty(records);
        Assert.Equal(0, reader.Damage!.Offset);
        var found = Assert.Single(reader.Tail.Marks);
        Assert.Equal(new DurableMark(9, synced), found.Mark);
        Assert.Equal(synced, found.Offset);
        Assert.Equal(synced, reader.Tail.FirstRecordStart);
    }

    [Fact]
    public void Tail_scan_follows_the_framing_past_a_bad_checksum_within_the_block()
    {
        var (fs, w) = NewLog(4, null);
        var ends = new List<long>();
        for (int i = 0; i < 20; i++)
        {
            w.AddRecord(new byte[50 + i]);
            w.Sync();
            ends.Add(w.Length);
        }

        w.Dispose();
        byte[] file = fs.ReadAllBytes("/m/x.log");
        Assert.True(file.Length < LogFormat.BlockSize);

        // Flip a payload byte of the fourth data record: everything after it is in the same block.
        var clean = ReadAll(file, out _);
        int fourth = clean.FindIndex(r => !r.Meta && r.Bytes.Length == 53);
        long fourthStart = clean[fourth - 1].End;
        file[fourthStart + LogFormat.HeaderSize + 10] ^= 1;
        var read = ReadAll(file, out LogReader reader);
        Assert.Equal(fourth, read.Count);
        Assert.Equal(fourthStart, reader.Damage!.Offset);
        Assert.Contains(reader.Tail.Marks, m => m.Mark.Offset == ends[^2]);
        Assert.True(reader.Tail.Marks.Max(m => m.Mark.Offset) > fourthStart, "a mark after the damage claims it was synced");
    }

    [Fact]
    public void Zero_hole_followed_by_records_is_damage_and_the_records_after_it_are_found()
    {
        var (fs, w) = NewLog(5, null);
        var rng = new Random(3);
        byte[] payload = new byte[60];
        for (int i = 0; i < 2000; i++)
        {
            rng.NextBytes(payload);
            w.AddRecord(payload);
        }

        w.Dispose();
        byte[] file = fs.ReadAllBytes("/m/x.log");
        Assert.True(file.Length > 3 * LogFormat.BlockSize);
        int page = 9 * 4096;
        Array.Clear(file, page, 4096);

        var read = ReadAll(file, out LogReader reader);
        Assert.NotNull(reader.Damage);
        Assert.InRange(reader.Damage!.Offset, page - 67, page);
        Assert.Equal(reader.IntactEnd, read[^1].End);
        Assert.True(reader.Tail.FirstIntactChunk >= page + 4096, $"first intact chunk after the hole at {reader.Tail.FirstIntactChunk}");
        Assert.Equal(file.Length, reader.Tail.DataEnd);
    }

    [Fact]
    public void Non_zero_block_padding_is_damage()
    {
        var (fs, w) = NewLog(6, null);
        w.AddRecord(new byte[LogFormat.BlockSize - LogFormat.HeaderSize - 3]);
        w.AddRecord([7]);
        w.Dispose();
        byte[] file = fs.ReadAllBytes("/m/x.log");
        file[LogFormat.BlockSize - 2] = 0xEE;
        var read = ReadAll(file, out LogReader reader);
        Assert.Single(read);
        Assert.Equal(LogFormat.BlockSize - 3, reader.Damage!.Offset);
        Assert.Equal(LogFormat.BlockSize, reader.Tail.FirstRecordStart);
    }
}
