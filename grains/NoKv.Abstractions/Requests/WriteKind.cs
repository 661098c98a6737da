namespace NoKv.Abstractions.Requests;

/// <summary>The kind of a write command. Written into Raft log entries: never renumber.</summary>
public enum WriteKind : byte
{
    Put = 1,
    Delete = 2,

    /// <summary>Writes <c>Value</c> (or deletes when it is null) only if the current value equals <c>Expected</c> (null = absent).</summary>
    CompareAndSwap = 3,
}
