namespace NoKv.Raft.Messages;

/// <summary>Where a snapshot sits in the log and the membership at that point.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState)
{
    public static SnapshotMetadata Empty { get; } = new(0, 0, ConfState.Empty);
}
