namespace NoKv.Replica.StateMachine;

/// <summary>
/// A write-only, seekable in-memory stream that keeps its bytes in fixed segments below the large object heap's
/// threshold and copies them once into an array of the exact length at the end (<see cref="ToArray"/>).
/// </summary>
/// <remarks>
/// Why: a shard's snapshot is built in memory. A <see cref="MemoryStream"/> grows by doubling, so a snapshot of S bytes
/// left about 2S of arrays of every power-of-two size on the large object heap, plus the S-byte copy of
/// <see cref="MemoryStream.ToArray"/>: garbage that only a full collection reclaims, and whose mixed sizes fragment the
/// heap. Under the chaos soak (a follower needing a snapshot of every shard after each pause or partition) a silo's
/// resident memory ratcheted up with each such round (docs/chaos.md, "The RSS climb"). Segments of
/// <see cref="SegmentSize"/> bytes die young in the small object heap instead; the one large array is the snapshot
/// itself. Seeking back and overwriting written bytes is allowed (a section's length is patched in after it).
/// </remarks>
internal sealed class SegmentedExportStream : Stream
{
    /// <summary>Below the 85,000-byte large object threshold.</summary>
    public const int SegmentSize = 64 * 1024;

    private readonly List<byte[]> _segments = new();
    private long _length;
    private long _position;

    public override bool CanRead => false;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, _length);
            _position = value;
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int segment = (int)(_position / SegmentSize);
            int at = (int)(_position % SegmentSize);
            if (segment == _segments.Count)
            {
                _segments.Add(new byte[SegmentSize]);
            }

            int n = Math.Min(buffer.Length, SegmentSize - at);
            buffer[..n].CopyTo(_segments[segment].AsSpan(at));
            buffer = buffer[n..];
            _position += n;
            _length = Math.Max(_length, _position);
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>The bytes written, in one array of exactly <see cref="Length"/> bytes.</summary>
    public byte[] ToArray()
    {
        var result = new byte[_length];
        long copied = 0;
        foreach (var segment in _segments)
        {
            int n = (int)Math.Min(SegmentSize, _length - copied);
            segment.AsSpan(0, n).CopyTo(result.AsSpan((int)copied));
            copied += n;
        }

        return result;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
