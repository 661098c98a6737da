namespace NoKv.Raft.Storage;

/// <summary>The requested index lies beyond the storage's last index.</summary>
public sealed class LogUnavailableException : Exception
{
    public LogUnavailableException(ulong index, ulong lastIndex)
        : base($"Raft log index {index} is unavailable; the last index is {lastIndex}.")
    {
        Index = index;
        LastIndex = lastIndex;
    }

    public ulong Index { get; }

    public ulong LastIndex { get; }
}
