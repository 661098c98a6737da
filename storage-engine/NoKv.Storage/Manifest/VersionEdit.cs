using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Manifest;

/// <summary>
/// A change to the set of live files and the database counters, appended to the manifest as one record.
/// </summary>
/// <remarks>
/// Encoding (docs/format-manifest.md): a sequence of fields, each <c>tag:varint32</c> followed by its body:
/// <code>
/// Comparator(1)     name:lenbytes
/// LogNumber(2)      varint64      WALs numbered below this are fully flushed
/// NextFileNumber(3) varint64
/// LastSequence(4)   varint64
/// CompactPointer(5) level:varint32 internalKey:lenbytes
/// DeletedFile(6)    level:varint32 number:varint64
/// NewFile(7)        level:varint32 number:varint64 size:varint64 smallest:lenbytes largest:lenbytes
///                   smallestSeq:varint64 largestSeq:varint64 entries:varint64
///                   tombstones:varint32 (start:lenbytes end:lenbytes seq:varint64)*
/// </code>
/// Tags are never renumbered; an unknown tag is corruption (a newer format this build cannot read).
/// </remarks>
internal sealed class VersionEdit
{
    public const string ComparatorName = "nokv.internal-key";

    public string? Comparator { get; set; }

    public ulong? LogNumber { get; set; }

    public ulong? NextFileNumber { get; set; }

    public ulong? LastSequence { get; set; }

    public List<(int Level, byte[] Key)> CompactPointers { get; } = [];

    public HashSet<(int Level, ulong Number)> DeletedFiles { get; } = [];

    public List<(int Level, FileMetaData File)> NewFiles { get; } = [];

    public void AddFile(int level, FileMetaData file) => NewFiles.Add((level, file));

    public void DeleteFile(int level, ulong number) => DeletedFiles.Add((level, number));

    public byte[] Encode()
    {
        var w = new SpanWriter();
        if (Comparator is not null)
        {
            w.Varint32((uint)VersionEditTag.Comparator);
            w.LengthPrefixed(System.Text.Encoding.UTF8.GetBytes(Comparator));
        }

        if (LogNumber is { } log)
        {
            w.Varint32((uint)VersionEditTag.LogNumber);
            w.Varint64(log);
        }

        if (NextFileNumber is { } next)
        {
            w.Varint32((uint)VersionEditTag.NextFileNumber);
            w.Varint64(next);
        }

        if (LastSequence is { } seq)
        {
            w.Varint32((uint)VersionEditTag.LastSequence);
            w.Varint64(seq);
        }

        foreach ((int level, byte[] key) in CompactPointers)
        {
            w.Varint32((uint)VersionEditTag.CompactPointer);
            w.Varint32((uint)level);
            w.LengthPrefixed(key);
        }

        foreach ((int level, ulong number) in DeletedFiles)
        {
            w.Varint32((uint)VersionEditTag.DeletedFile);
            w.Varint32((uint)level);
            w.Varint64(number);
        }

        foreach ((int level, FileMetaData f) in NewFiles)
        {
            w.Varint32((uint)VersionEditTag.NewFile);
            w.Varint32((uint)level);
            w.Varint64(f.Number);
            w.Varint64((ulong)f.Size);
            w.LengthPrefixed(f.Smallest);
            w.LengthPrefixed(f.Largest);
            w.Varint64(f.SmallestSequence);
            w.Varint64(f.LargestSequence);
            w.Varint64((ulong)f.EntryCount);
            w.Varint32((uint)f.RangeTombstones.Length);
            foreach (RangeTombstone t in f.RangeTombstones)
            {
                w.LengthPrefixed(t.Start);
                w.LengthPrefixed(t.End);
                w.Varint64(t.Sequence);
            }
        }

        return w.Written.ToArray();
    }

    /// <summary>Decodes an edit; throws <see cref="CorruptionException"/> naming the manifest and record offset.</summary>
    public static VersionEdit Decode(ReadOnlySpan<byte> data, string path, long offset, int numLevels)
    {
        var edit = new VersionEdit();
        var r = new SpanReader(data);
        while (!r.IsEmpty && !r.Failed)
        {
            var tag = (VersionEditTag)r.Varint32();
            switch (tag)
            {
                case VersionEditTag.Comparator:
                    edit.Comparator = System.Text.Encoding.UTF8.GetString(r.LengthPrefixed());
                    break;
                case VersionEditTag.LogNumber:
                    edit.LogNumber = r.Varint64();
                    break;
                case VersionEditTag.NextFileNumber:
                    edit.NextFileNumber = r.Varint64();
                    break;
                case VersionEditTag.LastSequence:
                    edit.LastSequence = r.Varint64();
                    break;
                case VersionEditTag.CompactPointer:
                    {
                        int level = ReadLevel(ref r, numLevels, path, offset);
                        edit.CompactPointers.Add((level, r.LengthPrefixed().ToArray()));
                        break;
                    }

                case VersionEditTag.DeletedFile:
                    {
                        int level = ReadLevel(ref r, numLevels, path, offset);
                        edit.DeletedFiles.Add((level, r.Varint64()));
                        break;
                    }

                case VersionEditTag.NewFile:
                    {
                        int level = ReadLevel(ref r, numLevels, path, offset);
                        ulong number = r.Varint64();
                        long size = (long)r.Varint64();
                        byte[] smallest = r.LengthPrefixed().ToArray();
                        byte[] largest = r.LengthPrefixed().ToArray();
                        ulong smallestSeq = r.Varint64();
                        ulong largestSeq = r.Varint64();
                        long entries = (long)r.Varint64();
                        uint count = r.Varint32();
                        if (r.Failed || count > data.Length || smallest.Length < InternalKey.TrailerSize || largest.Length < InternalKey.TrailerSize)
                        {
                            throw new CorruptionException(path, offset, "Manifest record: malformed new-file field.");
                        }

                        var tombstones = new RangeTombstone[count];
                        for (int i = 0; i < count; i++)
                        {
                            byte[] start = r.LengthPrefixed().ToArray();
                            byte[] end = r.LengthPrefixed().ToArray();
                            tombstones[i] = new RangeTombstone(start, end, r.Varint64());
                        }

                        edit.AddFile(level, new FileMetaData
                        {
                            Number = number,
                            Size = size,
                            Smallest = smallest,
                            Largest = largest,
                            SmallestSequence = smallestSeq,
                            LargestSequence = largestSeq,
                            EntryCount = entries,
                            RangeTombstones = tombstones,
                        });
                        break;
                    }

                default:
                    throw new CorruptionException(path, offset, $"Manifest record: unknown field tag {(uint)tag}.");
            }
        }

        if (r.Failed)
        {
            throw new CorruptionException(path, offset, "Manifest record: truncated field.");
        }

        return edit;
    }

    private static int ReadLevel(ref SpanReader r, int numLevels, string path, long offset)
    {
        uint level = r.Varint32();
        if (r.Failed || level >= (uint)numLevels)
        {
            throw new CorruptionException(path, offset, $"Manifest record: level {level} out of range (NumLevels is {numLevels}).");
        }

        return (int)level;
    }
}
