using NoKv.Storage.Manifest;
using NoKv.Storage.RangeDeletion;
using Xunit;

namespace NoKv.Storage.Tests.Manifest;

public sealed class VersionEditTests
{
    [Fact]
    public void Edit_round_trips_every_field()
    {
        var edit = new VersionEdit { Comparator = VersionEdit.ComparatorName, LogNumber = 7, NextFileNumber = 99, LastSequence = 123456789 };
        edit.DeleteFile(2, 40);
        edit.AddFile(3, new FileMetaData
        {
            Number = 41,
            Size = 4096,
            Smallest = InternalKey.Make("a"u8, InternalKey.Trailer(5, ValueKind.Value)),
            Largest = InternalKey.Make("z"u8, InternalKey.SeekTrailer),
            SmallestSequence = 5,
            LargestSequence = 9,
            EntryCount = 12,
            RangeTombstones = [new RangeTombstone("m"u8.ToArray(), "z"u8.ToArray(), 9)],
        });
        VersionEdit back = VersionEdit.Decode(edit.Encode(), "M", 0, 7);
        Assert.Equal(edit.Comparator, back.Comparator);
        Assert.Equal(7UL, back.LogNumber);
        Assert.Equal(99UL, back.NextFileNumber);
        Assert.Equal(123456789UL, back.LastSequence);
        Assert.Contains((2, 40UL), back.DeletedFiles);
        var (level, f) = Assert.Single(back.NewFiles);
        Assert.Equal(3, level);
        Assert.Equal(41UL, f.Number);
        Assert.Equal(4096, f.Size);
        Assert.Equal(12, f.EntryCount);
        Assert.Equal(9UL, f.LargestSequence);
        Assert.Equal("m"u8.ToArray(), Assert.Single(f.RangeTombstones).Start);
        Assert.Equal(edit.NewFiles[0].File.Largest, f.Largest);
    }

    [Fact]
    public void Unknown_tag_and_bad_level_are_corruption()
    {
        var e = Assert.Throws<CorruptionException>(() => VersionEdit.Decode([99, 1], "MANIFEST-1", 42, 7));
        Assert.Equal(42, e.Offset);
        var edit = new VersionEdit();
        edit.DeleteFile(6, 1);
        Assert.Throws<CorruptionException>(() => VersionEdit.Decode(edit.Encode(), "M", 0, 3));
        byte[] truncated = new VersionEdit { LogNumber = 300 }.Encode()[..^1];
        Assert.Throws<CorruptionException>(() => VersionEdit.Decode(truncated, "M", 0, 7));
    }
}
