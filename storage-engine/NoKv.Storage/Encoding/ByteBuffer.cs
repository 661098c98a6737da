using System.Buffers;
using System.Runtime.CompilerServices;

namespace NoKv.Storage.Encoding;

/// <summary>
/// A growable byte array for building encoded structures (blocks, records). Reused across builds via
/// <see cref="Clear"/> so steady-state building does not allocate. Not thread-safe.
/// </summary>
/// <remarks>
/// A pooled buffer (<see cref="Pooled"/>) rents its arrays from <see cref="ArrayPool{T}.Shared"/> and gives them back
/// as it grows and on <see cref="Release"/>. Why: a buffer that grows past 85,000 bytes lands on the large object
/// heap, which only a full collection reclaims; a table's index block (about 0.5 MiB for a 64 MiB table) grew there
/// through four doublings per table, about 2 MiB of garbage for every flush and compaction output, which sat in
/// the process's memory until the next full collection (tests/NoKv.Benchmarks/README.md, YCSB memory).
/// </remarks>
internal sealed class ByteBuffer
{
    private readonly bool _pooled;
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int initialCapacity = 256)
        : this(initialCapacity, pooled: false)
    {
    }

    private ByteBuffer(int initialCapacity, bool pooled)
    {
        _pooled = pooled;
        int capacity = Math.Max(16, initialCapacity);
        _buffer = pooled ? ArrayPool<byte>.Shared.Rent(capacity) : new byte[capacity];
    }

    /// <summary>A buffer whose arrays come from and go back to the shared array pool; call <see cref="Release"/> when done.</summary>
    public static ByteBuffer Pooled(int initialCapacity) => new(initialCapacity, pooled: true);

    /// <summary>
    /// Gives a pooled buffer's array back and leaves the buffer empty with no capacity; a later append rents again.
    /// Spans from <see cref="WrittenSpan"/> are invalid afterwards. A plain buffer is only cleared.
    /// </summary>
    public void Release()
    {
        _length = 0;
        if (_pooled && _buffer.Length > 0)
        {
            byte[] buffer = _buffer;
            _buffer = [];
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public int Length => _length;

    /// <summary>The bytes written so far; valid until the next append or <see cref="Clear"/>.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Discards the contents and keeps the capacity.</summary>
    public void Clear() => _length = 0;

    public void Append(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _length += data.Length;
    }

    public void AppendByte(byte value)
    {
        GetSpan(1)[0] = value;
        _length++;
    }

    public void AppendVarint32(uint value) => _length += Varint.Write32(GetSpan(Varint.MaxLength32), value);

    public void AppendVarint64(ulong value) => _length += Varint.Write64(GetSpan(Varint.MaxLength64), value);

    public void AppendFixed32(uint value)
    {
        Fixed.Write32(GetSpan(4), value);
        _length += 4;
    }

    public void AppendFixed64(ulong value)
    {
        Fixed.Write64(GetSpan(8), value);
        _length += 8;
    }

    /// <summary>Appends a varint32 length followed by the bytes.</summary>
    public void AppendLengthPrefixed(ReadOnlySpan<byte> data)
    {
        AppendVarint32((uint)data.Length);
        Append(data);
    }

    /// <summary>Writable space of at least <paramref name="size"/> bytes at the end; does not advance.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _length < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(_length);
    }

    private void Grow(int size)
    {
        long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + size);
        int capacity = (int)Math.Min(wanted, Array.MaxLength);
        if (capacity - _length < size)
        {
            throw new InvalidOperationException("Encoded structure exceeds the maximum array size.");
        }

        if (!_pooled)
        {
            Array.Resize(ref _buffer, capacity);
            return;
        }

        byte[] bigger = ArrayPool<byte>.Shared.Rent(capacity);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        byte[] old = _buffer;
        _buffer = bigger;
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
    }
}
