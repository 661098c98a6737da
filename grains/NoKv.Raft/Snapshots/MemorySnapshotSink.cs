namespace NoKv.Raft.Snapshots;

/// <summary>
/// A sink that reassembles the snapshot in one array of its declared size (the default when a host configures no
/// <see cref="RaftConfig.SnapshotSinkFactory"/>). Limited to 2 GiB, the largest array.
/// </summary>
public sealed class MemorySnapshotSink : SnapshotSink
{
    private readonly byte[] _buffer;
    private int _length;

    /// <exception cref="InvalidOperationException"><paramref name="size"/> exceeds 2 GiB.</exception>
    public MemorySnapshotSink(ulong size)
    {
        if (size > int.MaxValue)
        {
            throw new InvalidOperationException($"Snapshot of {size} bytes exceeds the 2 GiB limit of one in-memory snapshot.");
        }

        // Every byte is written by a chunk before the buffer is read: zeroing a shard-sized array first is wasted work.
        _buffer = GC.AllocateUninitializedArray<byte>((int)size);
    }

    public override long Length => _length;

    public override void Append(ReadOnlySpan<byte> chunk)
    {
        chunk.CopyTo(_buffer.AsSpan(_length));
        _length += chunk.Length;
    }

    public override SnapshotPayload Complete() => new MemorySnapshotPayload(_buffer.AsMemory(0, _length));
}
