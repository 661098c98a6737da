using NoKv.Storage.RangeDeletion;
using NoKv.Storage.ValueLog;

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
/// ValueFile(8)      number:varint64 fileSize:varint64 entries:varint64 valueBytes:varint64
///                   garbageEntries:varint64 garbageBytes:varint64
/// ValueFileGarbage(9) number:varint64 entries:varint64 bytes:varint64   (added to the file's garbage)
/// DeletedValueFile(10) number:varint64
/// TableValueFiles(11) table:varint64 valueBytes:varint64 count:varint32 valueFile:varint64*  (right after that table's NewFile)
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

    /// <summary>Value files written by the work this edit records (or, in a snapshot, every live one).</summary>
    public List<ValueFileMeta> NewValueFiles { get; } = [];

    /// <summary>Garbage to add per value file: values whose entries the work dropped or relocated.</summary>
    public Dictionary<ulong, (long Count, long Bytes)> ValueFileGarbage { get; } = [];

    /// <summary>Value files no table of the resulting version points into.</summary>
    public HashSet<ulong> DeletedValueFiles { get; } = [];

    public void AddValueFileGarbage(ulong number, long count, long bytes)
    {
        ValueFileGarbage.TryGetValue(number, out var g);
        ValueFileGarbage[number] = (g.Count + count, g.Bytes + bytes);
    }

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

        foreach (ulong number in DeletedValueFiles)
        {
            w.Varint32((uint)VersionEditTag.DeletedValueFile);
            w.Varint64(number);
        }

        foreach (ValueFileMeta v in NewValueFiles)
        {
            w.Varint32((uint)VersionEditTag.ValueFile);
            w.Varint64(v.Number);
            w.Varint64((ulong)v.FileSize);
            w.Varint64((ulong)v.EntryCount);
            w.Varint64((ulong)v.ValueBytes);
            w.Varint64((ulong)v.GarbageCount);
            w.Varint64((ulong)v.GarbageBytes);
        }

        foreach ((ulong number, (long count, long bytes)) in ValueFileGarbage)
        {
            w.Varint32((uint)VersionEditTag.ValueFileGarbage);
            w.Varint64(number);
            w.Varint64((ulong)count);
            w.Varint64((ulong)bytes);
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

            if (f.ValueFiles.Length > 0)
            {
                w.Varint32((uint)VersionEditTag.TableValueFiles);
                w.Varint64(f.Number);
                w.Varint64((ulong)f.SeparatedValueBytes);
                w.Varint32((uint)f.ValueFiles.Length);
                foreach (ulong v in f.ValueFiles)
                {
                    w.Varint64(v);
                }
            }
        }

        return w.Written.ToArray();
    }

    /// <summary>Decodes an edit; throws <see cref="CorruptionException"/> naming the manifest and record offset.</summary>
    public static VersionEdit Decode(ReadOnlySpan<byte> data, string path, long offset, int numLevels)
    {
        var edit = new VersionEdit();
        var r = new SpanReader(data);
        FileMetaData? lastNewFile = null;
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

                        lastNewFile = new FileMetaData
                        {
                            Number = number,
                            Size = size,
                            Smallest = smallest,
                            Largest = largest,
                            SmallestSequence = smallestSeq,
                            LargestSequence = largestSeq,
                            EntryCount = entries,
                            RangeTombstones = tombstones,
                        };
                        edit.AddFile(level, lastNewFile);
                        break;
                    }

                case VersionEditTag.ValueFile:
                    {
                        ulong number = r.Varint64();
                        long fileSize = (long)r.Varint64();
                        long entries = (long)r.Varint64();
                        long valueBytes = (long)r.Varint64();
                        long garbageCount = (long)r.Varint64();
                        long garbageBytes = (long)r.Varint64();
                        if (r.Failed || fileSize < 0 || entries < 0 || valueBytes < 0 || garbageCount < 0 || garbageBytes < 0)
                        {
                            throw new CorruptionException(path, offset, "Manifest record: malformed value-file field.");
                        }

                        edit.NewValueFiles.Add(new ValueFileMeta(number, fileSize, entries, valueBytes, garbageCount, garbageBytes));
                        break;
                    }

                case VersionEditTag.ValueFileGarbage:
                    {
                        ulong number = r.Varint64();
                        long count = (long)r.Varint64();
                        long bytes = (long)r.Varint64();
                        if (r.Failed || count < 0 || bytes < 0)
                        {
                            throw new CorruptionException(path, offset, "Manifest record: malformed value-file garbage field.");
                        }

                        edit.AddValueFileGarbage(number, count, bytes);
                        break;
                    }

                case VersionEditTag.DeletedValueFile:
                    edit.DeletedValueFiles.Add(r.Varint64());
                    break;

                case VersionEditTag.TableValueFiles:
                    {
                        ulong table = r.Varint64();
                        long valueBytes = (long)r.Varint64();
                        uint count = r.Varint32();
                        if (r.Failed || valueBytes < 0 || lastNewFile is null || lastNewFile.Number != table || count == 0 || count > data.Length)
                        {
                            throw new CorruptionException(path, offset, "Manifest record: value-file references that do not follow their table's new-file field.");
                        }

                        var numbers = new ulong[count];
                        for (int i = 0; i < count; i++)
                        {
                            numbers[i] = r.Varint64();
                            if (i > 0 && numbers[i] <= numbers[i - 1])
                            {
                                throw new CorruptionException(path, offset, "Manifest record: value-file references out of order.");
                            }
                        }

                        lastNewFile.ValueFiles = numbers;
                        lastNewFile.SeparatedValueBytes = valueBytes;
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
