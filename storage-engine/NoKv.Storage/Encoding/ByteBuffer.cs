using System.Runtime.CompilerServices;

namespace NoKv.Storage.Encoding;

/// <summary>
/// A growable byte array for building encoded structures (blocks, records). Reused across builds via
/// <see cref="Clear"/> so steady-state building does not allocate. Not thread-safe.
/// </summary>
internal sealed class ByteBuffer
{
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int initialCapacity = 256)
    {
        _buffer = new byte[Math.Max(16, initialCapacity)];
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

        Array.Resize(ref _buffer, capacity);
    }
}
