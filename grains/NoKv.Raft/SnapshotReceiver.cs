using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>
/// Follower-side reassembly of one chunked snapshot, identified by (index, term, size). Survives a
/// leader change, so a new leader streaming the same snapshot resumes where the old one stopped;
/// lost on a crash (it is memory only), in which case the follower answers offset 0 and the leader
/// restarts the stream.
/// </summary>
internal sealed class SnapshotReceiver
{
    private readonly byte[] buffer;

    public SnapshotReceiver(SnapshotMetadata metadata, ulong size)
    {
        Metadata = metadata;
        // Every byte is written by a chunk before the buffer is read: zeroing a shard-sized array first is wasted work.
        buffer = GC.AllocateUninitializedArray<byte>(checked((int)size));
    }

    public SnapshotMetadata Metadata { get; }

    public ulong Size => (ulong)buffer.Length;

    /// <summary>Bytes received contiguously from offset 0.</summary>
    public ulong Received { get; private set; }

    public bool Matches(SnapshotMetadata metadata, ulong size) =>
        Metadata.Index == metadata.Index && Metadata.Term == metadata.Term && Size == size;

    /// <summary>Copies a chunk that starts exactly at <see cref="Received"/>.</summary>
    public void Accept(ReadOnlySpan<byte> chunk)
    {
        if (Received + (ulong)chunk.Length > Size)
        {
            throw new InvalidOperationException($"Snapshot chunk overruns the declared size {Size}.");
        }

        chunk.CopyTo(buffer.AsSpan((int)Received));
        Received += (ulong)chunk.Length;
    }

    public bool Complete => Received == Size;

    public Snapshot ToSnapshot() => new(Metadata, buffer);
}
