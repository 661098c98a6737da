using NoKv.Storage.Manifest;

namespace NoKv.Storage.Compaction;

/// <summary>
/// Chooses the next compaction, leveled style: level 0 is scored by file count against
/// Level0CompactionTrigger, level n (1..last-1) by bytes against MaxBytesForLevelBase * LevelSizeMultiplier^(n-1).
/// The highest score at or above 1 wins. Level 0 compacts all its files together (they usually overlap);
/// other levels compact one file at a time, round-robin over the key space. Not thread-safe (compactions
/// are serialized by the database).
/// </summary>
internal sealed class CompactionPicker
{
    private readonly StorageOptions _options;
    private readonly byte[]?[] _compactPointers;

    public CompactionPicker(StorageOptions options)
    {
        _options = options;
        _compactPointers = new byte[options.NumLevels][];
    }

    public long MaxBytesForLevel(int level)
    {
        double bytes = _options.MaxBytesForLevelBase;
        for (int i = 1; i < level; i++)
        {
            bytes *= _options.LevelSizeMultiplier;
        }

        return (long)Math.Min(bytes, long.MaxValue / 2);
    }

    /// <summary>The most urgent compaction, or null when every level is within its target.</summary>
    public CompactionPlan? Pick(Version v)
    {
        int bestLevel = -1;
        double bestScore = 1;
        for (int level = 0; level < v.NumLevels - 1; level++)
        {
            double score = level == 0
                ? (double)v.Files[0].Length / _options.Level0CompactionTrigger
                : (double)v.LevelBytes(level) / MaxBytesForLevel(level);
            if (score >= bestScore)
            {
                bestScore = score;
                bestLevel = level;
            }
        }

        if (bestLevel < 0)
        {
            return null;
        }

        if (bestLevel == 0 && _options.CostAwareCompactionPicking && v.NumLevels > 2 && Level1FirstByCost(v))
        {
            bestLevel = 1;
        }

        List<FileMetaData> inputs;
        if (bestLevel == 0)
        {
            inputs = [.. v.Files[0]];
        }
        else
        {
            FileMetaData[] files = v.Files[bestLevel];
            FileMetaData pick = files[0];
            if (_compactPointers[bestLevel] is { } pointer)
            {
                foreach (FileMetaData f in files)
                {
                    if (InternalKey.Compare(f.Largest, pointer) > 0)
                    {
                        pick = f;
                        break;
                    }
                }
            }

            inputs = [pick];
            _compactPointers[bestLevel] = pick.Largest;
        }

        return Expand(v, bestLevel, inputs);
    }

    /// <summary>
    /// Level 0 is due; whether level 1 (over its target too) should go first because its compaction moves more bytes
    /// down per byte written. Merging b bytes of level 0 into all of level 1 (random keys overlap all of it) writes
    /// b + L1 to move b; a level-1 table of f bytes takes about f * L2 / L1 of level 2 along, moving a share
    /// L1 / (L1 + L2). Level 1 first when L1^2 > b * L2, until level 0 reaches the slowdown trigger.
    /// </summary>
    private bool Level1FirstByCost(Version v)
    {
        if (v.Files[0].Length >= _options.Level0SlowdownTrigger - 1)
        {
            return false;
        }

        long l1 = v.LevelBytes(1);
        if (l1 < MaxBytesForLevel(1))
        {
            return false;
        }

        double b = v.LevelBytes(0);
        double l2 = v.LevelBytes(2);
        return (double)l1 * l1 > b * l2;
    }

    /// <summary>
    /// A compaction of the files of <paramref name="level"/> overlapping [begin, end] (null = unbounded), or
    /// null if none. The last level compacts into itself, which is how its deletions are finally reclaimed.
    /// </summary>
    public static CompactionPlan? ForRange(Version v, int level, byte[]? begin, byte[]? end)
    {
        List<FileMetaData> inputs = v.GetOverlappingInputs(level, begin, end);
        if (inputs.Count == 0)
        {
            return null;
        }

        return level == v.NumLevels - 1 ? new CompactionPlan(level, level, inputs, []) : Expand(v, level, inputs);
    }

    /// <summary>
    /// A compaction of <paramref name="file"/> from <paramref name="level"/> (not the last) into the next level,
    /// with the files any compaction of it must take along (overlapping level-0 files, the next level's overlap).
    /// </summary>
    public static CompactionPlan ForFile(Version v, int level, FileMetaData file)
    {
        if (level >= v.NumLevels - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "The last level has no level below to compact into.");
        }

        return Expand(v, level, [file]);
    }

    private static CompactionPlan Expand(Version v, int level, List<FileMetaData> inputs)
    {
        byte[] lo = inputs[0].SmallestUserKey.ToArray();
        byte[] hi = inputs[0].LargestUserKey.ToArray();
        foreach (FileMetaData f in inputs)
        {
            if (f.SmallestUserKey.SequenceCompareTo(lo) < 0)
            {
                lo = f.SmallestUserKey.ToArray();
            }

            if (f.LargestUserKey.SequenceCompareTo(hi) > 0)
            {
                hi = f.LargestUserKey.ToArray();
            }
        }

        if (level == 0)
        {
            // Any L0 file overlapping the range must come along, or an older version would be left above a newer one.
            inputs = v.GetOverlappingInputs(0, lo, hi);
            foreach (FileMetaData f in inputs)
            {
                if (f.SmallestUserKey.SequenceCompareTo(lo) < 0)
                {
                    lo = f.SmallestUserKey.ToArray();
                }

                if (f.LargestUserKey.SequenceCompareTo(hi) > 0)
                {
                    hi = f.LargestUserKey.ToArray();
                }
            }
        }

        List<FileMetaData> next = v.GetOverlappingInputs(level + 1, lo, hi);
        return new CompactionPlan(level, level + 1, inputs, next);
    }
}
