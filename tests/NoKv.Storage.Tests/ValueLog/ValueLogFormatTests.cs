using NoKv.Storage.Manifest;
using NoKv.Storage.ValueLog;
using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;
using Xunit;

namespace NoKv.Storage.Tests.ValueLog;

/// <summary>
/// The value log's on-disk rules: pointers and manifest records round-trip, malformed ones are corruption, and a
/// build that predates the value log refuses a database that uses it (docs/format-manifest.md: an unknown field
/// tag is corruption) instead of misreading its pointers as values or deletions.
/// </summary>
public sealed class ValueLogFormatTests
{
    [Theory]
    [InlineData(1UL, 16UL, 0, 0u)]
    [InlineData(123456UL, 1UL << 40, 16384, 0xDEADBEEFu)]
    [InlineData(ulong.MaxValue >> 1, ulong.MaxValue, int.MaxValue, uint.MaxValue)]
    public void Pointers_round_trip_and_reject_any_other_length(ulong file, ulong offset, int size, uint checksum)
    {
        var pointer = new ValuePointer(file, offset, size, checksum);
        byte[] buffer = new byte[ValuePointer.MaxEncodedLength + 1];
        int n = pointer.EncodeTo(buffer);
        Assert.True(ValuePointer.TryDecode(buffer.AsSpan(0, n), out ValuePointer back));
        Assert.Equal(pointer, back);
        Assert.False(ValuePointer.TryDecode(buffer.AsSpan(0, n - 1), out _));
        Assert.False(ValuePointer.TryDecode(buffer.AsSpan(0, n + 1), out _));
        Assert.Throws<CorruptionException>(() => ValuePointer.Decode(buffer.AsSpan(0, n - 1), "t.sst"));
    }

    [Fact]
    public void Value_file_records_round_trip_with_their_table_references_and_garbage()
    {
        var edit = new VersionEdit();
        edit.NewValueFiles.Add(new ValueFileMeta(12, 5000, 7, 4800, 2, 900));
        edit.AddValueFileGarbage(9, 3, 300);
        edit.DeletedValueFiles.Add(4);
        var table = new FileMetaData
        {
            Number = 13,
            Size = 100,
            Smallest = InternalKey.Make("a"u8, InternalKey.Trailer(1, ValueKind.ValuePointer)),
            Largest = InternalKey.Make("b"u8, InternalKey.Trailer(2, ValueKind.Value)),
            SmallestSequence = 1,
            LargestSequence = 2,
            EntryCount = 2,
            ValueFiles = [9, 12],
            SeparatedValueBytes = 4321,
        };
        edit.AddFile(1, table);
        VersionEdit back = VersionEdit.Decode(edit.Encode(), "M", 0, 7);
        ValueFileMeta v = Assert.Single(back.NewValueFiles);
        Assert.Equal((12UL, 5000L, 7L, 4800L, 2L, 900L), (v.Number, v.FileSize, v.EntryCount, v.ValueBytes, v.GarbageCount, v.GarbageBytes));
        Assert.Equal((3L, 300L), back.ValueFileGarbage[9]);
        Assert.Equal([4UL], back.DeletedValueFiles);
        Assert.Equal([9UL, 12UL], Assert.Single(back.NewFiles).File.ValueFiles);
        Assert.Equal(4321, back.NewFiles[0].File.SeparatedValueBytes);
    }

    [Fact]
    public void Table_references_out_of_order_or_without_their_table_are_corruption()
    {
        var w = new SpanWriter();
        w.Varint32((uint)VersionEditTag.TableValueFiles);
        w.Varint64(13);
        w.Varint32(1);
        w.Varint64(9);
        Assert.Throws<CorruptionException>(() => VersionEdit.Decode(w.Written, "M", 0, 7));
    }

    [Fact]
    public void A_database_using_the_value_log_is_refused_by_the_manifest_rule_of_older_builds()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open("/old", new StorageOptions { FileSystem = fs, ValueLogMinValueBytes = 16 }))
        {
            db.Put("small"u8, "v"u8);
            db.Put("large"u8, new byte[100]);
            db.Flush();
        }

        // An older build replays every record of the live manifest; the flush's edit names the value file.
        Assert.Equal((uint)VersionEditTag.ValueFile, FirstTagUnknownToOlderBuilds(fs, "/old"));

        // After a reopen the new manifest's snapshot, its first record, names it.
        using (Database.Open("/old", new StorageOptions { FileSystem = fs }))
        {
        }

        Assert.Equal((uint)VersionEditTag.ValueFile, FirstTagUnknownToOlderBuilds(fs, "/old", firstRecordOnly: true));
    }

    [Fact]
    public void A_database_that_never_separated_a_value_stays_readable_by_older_builds()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open("/old", new StorageOptions { FileSystem = fs, ValueLogMinValueBytes = 1000 }))
        {
            db.Put("small"u8, new byte[100]);
            db.Flush();
        }

        Assert.Null(FirstTagUnknownToOlderBuilds(fs, "/old"));
    }

    /// <summary>The first tag an older build stops at in the live manifest of <paramref name="dir"/>, or null if it reads it all.</summary>
    private static uint? FirstTagUnknownToOlderBuilds(MemFileSystem fs, string dir, bool firstRecordOnly = false)
    {
        string current = System.Text.Encoding.UTF8.GetString(fs.ReadAllBytes(dir + "/CURRENT")).TrimEnd('\n');
        using var reader = new LogReader(fs.OpenSequential(dir + "/" + current), current);
        while (reader.TryReadRecord(out ReadOnlySpan<byte> record))
        {
            if (FirstTagUnknownToOlderBuilds(record) is { } tag)
            {
                return tag;
            }

            if (firstRecordOnly)
            {
                break;
            }
        }

        return null;
    }

    /// <summary>
    /// Walks a manifest record with the grammar of the builds before the value log (tags 1-7 only, as
    /// docs/format-manifest.md gave it) and returns the first tag such a build stops at with "unknown field tag".
    /// </summary>
    private static uint? FirstTagUnknownToOlderBuilds(ReadOnlySpan<byte> record)
    {
        var r = new SpanReader(record);
        while (!r.IsEmpty)
        {
            uint tag = r.Varint32();
            switch (tag)
            {
                case 1:
                    r.LengthPrefixed();
                    break;
                case 2 or 3 or 4:
                    r.Varint64();
                    break;
                case 5:
                    r.Varint32();
                    r.LengthPrefixed();
                    break;
                case 6:
                    r.Varint32();
                    r.Varint64();
                    break;
                case 7:
                    r.Varint32();
                    for (int i = 0; i < 2; i++)
                    {
                        r.Varint64();
                    }

                    r.LengthPrefixed();
                    r.LengthPrefixed();
                    for (int i = 0; i < 3; i++)
                    {
                        r.Varint64();
                    }

                    uint tombstones = r.Varint32();
                    for (int i = 0; i < tombstones; i++)
                    {
                        r.LengthPrefixed();
                        r.LengthPrefixed();
                        r.Varint64();
                    }

                    break;
                default:
                    return tag;
            }

            Assert.False(r.Failed);
        }

        return null;
    }
}
