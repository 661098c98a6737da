namespace NoKv.Raft.Messages;

/// <summary>A point-in-time image of the state machine covering the log up to <see cref="SnapshotMetadata.Index"/>.</summary>
/// <remarks>
/// <see cref="Data"/> is opaque to the library: the host produces it (e.g. a range export of the
/// engine) and consumes it when installing. The library only slices it into chunks to send.
/// </remarks>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data)
{
    public static Snapshot Empty { get; } = new(SnapshotMetadata.Empty, ReadOnlyMemory<byte>.Empty);

    public bool IsEmpty => Metadata.Index == 0;
}
