namespace NoKv.Raft.Storage;

/// <summary>The requested index lies at or before the storage's compaction point (it is covered by a snapshot).</summary>
/// <remarks>Expected during normal operation: a leader reacts by sending a snapshot.</remarks>
public sealed class LogCompactedException : Exception
{
    public LogCompactedException(ulong index, ulong firstIndex)
        : base($"Raft log index {index} is compacted; the first available index is {firstIndex}.")
    {
        Index = index;
        FirstIndex = firstIndex;
    }

    public ulong Index { get; }

    public ulong FirstIndex { get; }
}
