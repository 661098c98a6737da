namespace NoKv.Raft.Snapshots;

/// <summary>A forward-only, read-only stream over a <see cref="SnapshotPayload"/> (its default <see cref="SnapshotPayload.OpenRead"/>).</summary>
internal sealed class SnapshotPayloadStream(SnapshotPayload payload) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => payload.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Min(buffer.Length, payload.Length - _position);
        if (n <= 0)
        {
            return 0;
        }

        payload.ReadAt(_position, buffer[..n]);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
