using NoKv.Storage.Manifest;

namespace NoKv.Storage.Compaction;

/// <summary>A picked compaction: input files of a level and the overlapping files of the next, merged into the next.</summary>
internal sealed class CompactionPlan
{
    public CompactionPlan(int level, int outputLevel, List<FileMetaData> inputs, List<FileMetaData> outputLevelInputs)
    {
        Level = level;
        OutputLevel = outputLevel;
        Inputs = inputs;
        OutputLevelInputs = outputLevelInputs;
    }

    public int Level { get; }

    public int OutputLevel { get; }

    public List<FileMetaData> Inputs { get; }

    public List<FileMetaData> OutputLevelInputs { get; }

    /// <summary>
    /// Nothing to merge: no file of the output level overlaps, and the inputs do not overlap each other (one
    /// file, or level-0 files written from disjoint key ranges, as sequential inserts produce). The manifest
    /// can then move them down without rewriting a byte.
    /// </summary>
    public bool IsTrivialMove
    {
        get
        {
            if (OutputLevelInputs.Count != 0)
            {
                return false;
            }

            if (Inputs.Count == 1)
            {
                return true;
            }

            var sorted = new List<FileMetaData>(Inputs);
            sorted.Sort(static (a, b) => InternalKey.Compare(a.Smallest, b.Smallest));
            for (int i = 1; i < sorted.Count; i++)
            {
                if (sorted[i - 1].LargestUserKey.SequenceCompareTo(sorted[i].SmallestUserKey) >= 0)
                {
                    return false;
                }
            }

            return true;
        }
    }

    public IEnumerable<FileMetaData> AllInputs => Inputs.Concat(OutputLevelInputs);

    public long InputBytes => AllInputs.Sum(f => f.Size);
}
