namespace NoKv.Raft.Storage;

/// <summary>A snapshot older than the one the storage already holds was offered.</summary>
public sealed class SnapshotOutOfDateException : Exception
{
    public SnapshotOutOfDateException(ulong offeredIndex, ulong currentIndex)
        : base($"Snapshot at index {offeredIndex} is older than the current snapshot at index {currentIndex}.")
    {
        OfferedIndex = offeredIndex;
        CurrentIndex = currentIndex;
    }

    public ulong OfferedIndex { get; }

    public ulong CurrentIndex { get; }
}
