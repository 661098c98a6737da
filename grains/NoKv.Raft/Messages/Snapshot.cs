using NoKv.Raft.Snapshots;

namespace NoKv.Raft.Messages;

/// <summary>A point-in-time image of the state machine covering the log up to <see cref="SnapshotMetadata.Index"/>.</summary>
/// <remarks>
/// The bytes are opaque to the library: the host produces them (e.g. a range export of the engine) and consumes them
/// when installing; the library only reads them a chunk at a time to send. A whole snapshot holds them either in
/// <see cref="Data"/> (in memory) or in a <see cref="Payload"/> (e.g. a staging file, read a chunk at a time; see
/// <see cref="SnapshotPayload"/> for who disposes it). In a Snapshot message, <see cref="Data"/> holds just the chunk.
/// </remarks>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data)
{
    /// <summary>A snapshot whose bytes are in <paramref name="payload"/> (<see cref="Data"/> is then empty).</summary>
    public Snapshot(SnapshotMetadata metadata, SnapshotPayload payload)
        : this(metadata, ReadOnlyMemory<byte>.Empty)
    {
        Payload = payload;
    }

    public static Snapshot Empty { get; } = new(SnapshotMetadata.Empty, ReadOnlyMemory<byte>.Empty);

    /// <summary>Where the bytes are when they are not in <see cref="Data"/>; null for an in-memory snapshot or a chunk.</summary>
    public SnapshotPayload? Payload { get; private init; }

    /// <summary>Total bytes of the snapshot (of the chunk, in a message).</summary>
    public long Size => Payload?.Length ?? Data.Length;

    public bool IsEmpty => Metadata.Index == 0;

    /// <summary>The bytes as a payload (<see cref="Data"/> wrapped when there is no <see cref="Payload"/>).</summary>
    public SnapshotPayload AsPayload() => Payload ?? new MemorySnapshotPayload(Data);

    /// <summary>Releases the payload, if any (a staging file is deleted); an in-memory snapshot needs nothing.</summary>
    internal void Release() => Payload?.Dispose();
}
