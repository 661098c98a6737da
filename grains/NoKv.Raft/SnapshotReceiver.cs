using NoKv.Raft.Messages;
using NoKv.Raft.Snapshots;

namespace NoKv.Raft;

/// <summary>
/// Follower-side reassembly of one chunked snapshot, identified by (index, term, size), into a
/// <see cref="SnapshotSink"/> (a staging file in a host that configures one; memory by default). Survives a leader
/// change, so a new leader streaming the same snapshot resumes where the old one stopped; lost on a crash (the host
/// discards staged bytes on restart), in which case the follower answers offset 0 and the leader restarts the stream.
/// </summary>
internal sealed class SnapshotReceiver : IDisposable
{
    private readonly SnapshotSink sink;

    public SnapshotReceiver(SnapshotMetadata metadata, ulong size, SnapshotSink sink)
    {
        Metadata = metadata;
        Size = size;
        this.sink = sink;
    }

    public SnapshotMetadata Metadata { get; }

    public ulong Size { get; }

    /// <summary>Bytes received contiguously from offset 0.</summary>
    public ulong Received { get; private set; }

    public bool Matches(SnapshotMetadata metadata, ulong size) =>
        Metadata.Index == metadata.Index && Metadata.Term == metadata.Term && Size == size;

    /// <summary>Appends a chunk that starts exactly at <see cref="Received"/>.</summary>
    public void Accept(ReadOnlySpan<byte> chunk)
    {
        if (Received + (ulong)chunk.Length > Size)
        {
            throw new InvalidOperationException($"Snapshot chunk overruns the declared size {Size}.");
        }

        sink.Append(chunk);
        Received += (ulong)chunk.Length;
    }

    public bool Complete => Received == Size;

    /// <summary>The whole snapshot; its payload now owns the bytes (disposing the receiver after this releases nothing).</summary>
    /// <remarks>Bytes reassembled in memory come back as <see cref="Snapshot.Data"/>, as they always did.</remarks>
    public Snapshot ToSnapshot() =>
        sink.Complete() is var payload && payload is MemorySnapshotPayload memory ? new(Metadata, memory.Data) : new(Metadata, payload);

    public void Dispose() => sink.Dispose();
}
