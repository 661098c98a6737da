using System.Buffers.Binary;

namespace NoKv.Replica.Snapshots;

/// <summary>
/// Reads a shard snapshot (docs/format-replica-state.md is the descriptor; ShardStateMachine's export comment the
/// layout) front to back from a seekable stream: fixed header, descriptor, then sections, each an 8-byte length and a
/// range export. A section is handed out as a stream limited to its bytes, so a damaged length cannot make one
/// section's reader consume the next. Not thread-safe.
/// </summary>
internal sealed class SnapshotSectionReader
{
    private readonly Stream _stream;
    private readonly string _owner;

    /// <param name="owner">"Shard N", for error messages.</param>
    public SnapshotSectionReader(Stream stream, string owner)
    {
        if (!stream.CanSeek)
        {
            throw new ArgumentException("A snapshot is read from a seekable stream.", nameof(stream));
        }

        _stream = stream;
        _owner = owner;
    }

    /// <summary>Bytes after the current position.</summary>
    public long Remaining => _stream.Length - _stream.Position;

    /// <summary>Fills <paramref name="destination"/> from the current position.</summary>
    /// <exception cref="InvalidDataException">The snapshot ends first.</exception>
    public void ReadExactly(Span<byte> destination)
    {
        if (Remaining < destination.Length)
        {
            throw new InvalidDataException($"{_owner}: snapshot data is truncated.");
        }

        _stream.ReadExactly(destination);
    }

    /// <summary>The next section, as a stream of exactly its bytes; the reader moves past it at once.</summary>
    /// <exception cref="InvalidDataException">The length is missing or overruns the snapshot.</exception>
    public Stream NextSection()
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(lengthBytes);
        long length = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (length < 0 || length > Remaining)
        {
            throw new InvalidDataException($"{_owner}: snapshot section overruns the data.");
        }

        long start = _stream.Position;
        _stream.Position = start + length;
        return new SectionStream(_stream, start, length);
    }

    /// <summary>A read-only window [start, start + length) of the snapshot stream, positioned independently of it.</summary>
    private sealed class SectionStream(Stream inner, long start, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            if (n <= 0)
            {
                return 0;
            }

            inner.Position = start + _position;
            n = inner.Read(buffer[..n]);
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
}
