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

    /// <summary>One file with nothing to merge against: the manifest can move it down without rewriting it.</summary>
    public bool IsTrivialMove => Inputs.Count == 1 && OutputLevelInputs.Count == 0;

    public IEnumerable<FileMetaData> AllInputs => Inputs.Concat(OutputLevelInputs);

    public long InputBytes => AllInputs.Sum(f => f.Size);
}
