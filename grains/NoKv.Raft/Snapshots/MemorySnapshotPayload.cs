namespace NoKv.Raft.Snapshots;

/// <summary>
/// A payload held in memory: the library's tests, the simulator, and hosts without a staging directory. Disposing it
/// releases nothing (the garbage collector does), so the same instance may be handed out more than once.
/// </summary>
public sealed class MemorySnapshotPayload(ReadOnlyMemory<byte> data) : SnapshotPayload
{
    public ReadOnlyMemory<byte> Data { get; } = data;

    public override long Length => Data.Length;

    public override void ReadAt(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        Data.Span.Slice((int)offset, destination.Length).CopyTo(destination);
    }

    public override Stream OpenRead() =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(Data.ToArray(), writable: false);
}
