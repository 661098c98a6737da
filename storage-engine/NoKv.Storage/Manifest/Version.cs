using NoKv.Storage.RangeDeletion;
using NoKv.Storage.ValueLog;

namespace NoKv.Storage.Manifest;

/// <summary>
/// An immutable set of live table files per level, plus an index of all their range tombstones.
/// </summary>
/// <remarks>
/// Level 0 files may overlap and are ordered newest first (largest sequence, then file number, descending).
/// Files of every other level are disjoint and ordered by smallest key. A version is reference counted:
/// the version set holds the current one, and readers (super versions, iterators) hold the ones they use;
/// when the last reference goes, its files lose one reference each, and a file no version references is
/// deleted. Thread-safe (immutable; counting is atomic).
/// </remarks>
internal sealed class Version
{
    private readonly Action<FileMetaData>? _onFileObsolete;
    private readonly Action<ValueFileMeta>? _onValueFileObsolete;
    private int _refs;

    public Version(FileMetaData[][] files, Action<FileMetaData>? onFileObsolete, ValueFileMeta[]? valueFiles = null, Action<ValueFileMeta>? onValueFileObsolete = null)
    {
        Files = files;
        _onFileObsolete = onFileObsolete;
        _onValueFileObsolete = onValueFileObsolete;
        ValueFiles = valueFiles ?? [];
        foreach (ValueFileMeta v in ValueFiles)
        {
            v.Ref();
        }

        var tombstones = new List<RangeTombstone>();
        foreach (FileMetaData[] level in files)
        {
            foreach (FileMetaData f in level)
            {
                f.Ref();
                tombstones.AddRange(f.RangeTombstones);
            }
        }

        RangeTombstones = RangeTombstoneIndex.Build(tombstones);
        _refs = 1;
    }

    /// <summary>Files per level (see the ordering rules above). Never modified.</summary>
    public FileMetaData[][] Files { get; }

    public int NumLevels => Files.Length;

    /// <summary>The value files this version's tables point into, ascending by number. Never modified.</summary>
    public ValueFileMeta[] ValueFiles { get; }

    /// <summary>Every range tombstone of every file.</summary>
    public RangeTombstoneIndex RangeTombstones { get; }

    /// <summary>
    /// Takes a reference unless the last one is already gone. A version whose count reached zero has released
    /// its files (they may be deleted by now), so it must never come back: a reference taken then would release
    /// them a second time when it goes, and delete tables later versions still hold.
    /// </summary>
    public bool TryRef()
    {
        int refs = Volatile.Read(ref _refs);
        while (refs > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refs, refs + 1, refs);
            if (seen == refs)
            {
                return true;
            }

            refs = seen;
        }

        return false;
    }

    public void Unref()
    {
        if (Interlocked.Decrement(ref _refs) != 0)
        {
            return;
        }

        foreach (FileMetaData[] level in Files)
        {
            foreach (FileMetaData f in level)
            {
                if (f.Unref())
                {
                    _onFileObsolete?.Invoke(f);
                }
            }
        }

        foreach (ValueFileMeta v in ValueFiles)
        {
            if (v.Unref())
            {
                _onValueFileObsolete?.Invoke(v);
            }
        }
    }

    public long LevelBytes(int level)
    {
        long total = 0;
        foreach (FileMetaData f in Files[level])
        {
            total += f.Size;
        }

        return total;
    }

    /// <summary>Index of the first file of a sorted level (&gt;= 1) whose largest key is &gt;= <paramref name="internalKey"/>.</summary>
    public static int FindFile(FileMetaData[] files, ReadOnlySpan<byte> internalKey)
    {
        int lo = 0;
        int hi = files.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (InternalKey.Compare(files[mid].Largest, internalKey) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Whether any file of levels deeper than <paramref name="level"/> may hold keys in [start, end] (user keys, inclusive).</summary>
    public bool OverlapsBelow(int level, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        for (int l = Math.Max(level + 1, 1); l < Files.Length; l++)
        {
            // Sorted, disjoint level: the only candidate is the first file ending at or after start.
            FileMetaData[] files = Files[l];
            int lo = 0;
            int hi = files.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (files[mid].LargestUserKey.SequenceCompareTo(start) < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            if (lo < files.Length && files[lo].SmallestUserKey.SequenceCompareTo(end) <= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Files of <paramref name="level"/> whose user-key range intersects [begin, end] (null = unbounded).
    /// For level 0 the range grows to cover every overlapping file, transitively, so the result never
    /// leaves an older overlapping L0 file behind a newer one.
    /// </summary>
    public List<FileMetaData> GetOverlappingInputs(int level, byte[]? begin, byte[]? end)
    {
        var result = new List<FileMetaData>();
        byte[]? lo = begin;
        byte[]? hi = end;
        FileMetaData[] files = Files[level];
        for (int i = 0; i < files.Length; i++)
        {
            FileMetaData f = files[i];
            if ((hi is not null && f.SmallestUserKey.SequenceCompareTo(hi) > 0) || (lo is not null && f.LargestUserKey.SequenceCompareTo(lo) < 0))
            {
                continue;
            }

            result.Add(f);
            if (level == 0)
            {
                bool grew = false;
                if (lo is not null && f.SmallestUserKey.SequenceCompareTo(lo) < 0)
                {
                    lo = f.SmallestUserKey.ToArray();
                    grew = true;
                }

                if (hi is not null && f.LargestUserKey.SequenceCompareTo(hi) > 0)
                {
                    hi = f.LargestUserKey.ToArray();
                    grew = true;
                }

                if (grew)
                {
                    result.Clear();
                    i = -1;
                }
            }
        }

        return result;
    }
}
