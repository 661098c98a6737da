using System.Buffers;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Readahead for one iterator walking a table forward: after two consecutive data blocks are read from the
/// file, block reads are served from a larger read that starts at the requested block and grows from 16 KiB
/// to 256 KiB, so a scan pays one positional read per many blocks instead of one per block. Point lookups
/// and backward steps do not use it.
/// </summary>
/// <remarks>
/// Not thread-safe: owned by one iterator, which disposes it to return the pooled buffer. The buffer is
/// only a staging area: every block is copied into its own array before it is verified and handed out,
/// so nothing given to a caller or to the block cache ever aliases the pooled memory.
/// </remarks>
internal sealed class BlockReadahead : IDisposable
{
    private const int InitialSize = 16 * 1024;
    private const int MaxSize = 256 * 1024;
    private const int SequentialReadsBeforeReadahead = 2;

    private byte[]? _buffer;
    private long _bufferOffset;
    private int _bufferLength;
    private int _nextSize = InitialSize;
    private long _expectedNextOffset = -1;
    private int _sequentialReads;

    /// <summary>Number of file reads issued through this readahead (for tests).</summary>
    public int FileReads { get; private set; }

    /// <summary>
    /// Copies the block at [offset, offset + length) into <paramref name="destination"/> from the staged
    /// bytes, refilling them from <paramref name="file"/> when the access pattern is sequential (never past
    /// <paramref name="dataEnd"/>). Returns false when the caller should read the block itself.
    /// </summary>
    public bool TryRead(IRandomAccessFile file, long offset, int length, long dataEnd, Span<byte> destination)
    {
        if (Contains(offset, length))
        {
            _buffer.AsSpan((int)(offset - _bufferOffset), length).CopyTo(destination);
            return true;
        }

        if (_sequentialReads < SequentialReadsBeforeReadahead)
        {
            return false;
        }

        int size = (int)Math.Min(Math.Max(_nextSize, length), dataEnd - offset);
        if (size < length)
        {
            return false;
        }

        if (_buffer is null || _buffer.Length < size)
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, MaxSize));
        }

        _bufferOffset = offset;
        _bufferLength = file.Read(offset, _buffer.AsSpan(0, size));
        FileReads++;
        _nextSize = Math.Min(_nextSize * 2, MaxSize);
        if (!Contains(offset, length))
        {
            _bufferLength = 0;
            return false;
        }

        _buffer.AsSpan(0, length).CopyTo(destination);
        return true;
    }

    /// <summary>
    /// Records that the iterator needs the block at [offset, offset + length), whether or not it is cached,
    /// so the access pattern is judged on the iterator's path rather than only on cache misses.
    /// </summary>
    public void Observe(long offset, int length)
    {
        _sequentialReads = offset == _expectedNextOffset ? _sequentialReads + 1 : 0;
        _expectedNextOffset = offset + length;
    }

    /// <summary>Forgets the buffered range and the access pattern (keeps the buffer), before reading another file.</summary>
    public void Reset()
    {
        _bufferLength = 0;
        _nextSize = InitialSize;
        _expectedNextOffset = -1;
        _sequentialReads = 0;
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _bufferLength = 0;
        }
    }

    private bool Contains(long offset, int length) =>
        _buffer is not null && offset >= _bufferOffset && offset + length <= _bufferOffset + _bufferLength;
}
