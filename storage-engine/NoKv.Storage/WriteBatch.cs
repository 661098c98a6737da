using System.Buffers.Binary;

namespace NoKv.Storage;

/// <summary>
/// An ordered group of puts, deletes and range deletes applied atomically by <see cref="Database.Write"/>.
/// Reusable after <see cref="Clear"/>. Not thread-safe.
/// </summary>
/// <remarks>
/// Serialized representation (the WAL record payload; see docs/format-wal.md). All integers little-endian:
/// <code>
/// batch   := sequence:fixed64 count:fixed32 record*
/// record  := 0x01 key:lenbytes value:lenbytes      (Value)
///          | 0x00 key:lenbytes                     (Deletion)
///          | 0x02 start:lenbytes end:lenbytes      (RangeDeletion of [start, end))
/// lenbytes := length:varint32 bytes[length]
/// </code>
/// The record kinds are the internal-key kinds (<see cref="ValueKind"/>): written to disk, never renumber.
/// Record i receives sequence number <c>sequence + i</c>.
/// </remarks>
public sealed class WriteBatch
{
    internal const int HeaderSize = 12;

    private byte[] _rep;
    private int _length;
    private int _count;

    public WriteBatch()
    {
        _rep = new byte[256];
        _length = HeaderSize;
    }

    /// <summary>Number of records (puts, deletes and range deletes).</summary>
    public int Count => _count;

    /// <summary>Size in bytes of the serialized batch (what the WAL will carry).</summary>
    public int ApproximateSize => _length;

    /// <summary>The serialized batch; valid until the batch is next modified.</summary>
    internal ReadOnlySpan<byte> Rep => _rep.AsSpan(0, _length);

    internal ReadOnlyMemory<byte> RepMemory => _rep.AsMemory(0, _length);

    /// <summary>Bytes of user keys and values (the numerator's denominator of write amplification).</summary>
    internal long UserBytes { get; private set; }

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Append(ValueKind.Value, key, value, withValue: true);
    }

    public void Delete(ReadOnlySpan<byte> key)
    {
        Append(ValueKind.Deletion, key, default, withValue: false);
    }

    /// <summary>Deletes every key in [start, end). An empty range (start == end) is a no-op.</summary>
    /// <exception cref="ArgumentException">start sorts after end.</exception>
    public void DeleteRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        int c = start.SequenceCompareTo(end);
        if (c > 0)
        {
            throw new ArgumentException("DeleteRange: start must not sort after end.", nameof(start));
        }

        if (c == 0)
        {
            return;
        }

        Append(ValueKind.RangeDeletion, start, end, withValue: true);
    }

    public void Clear()
    {
        _length = HeaderSize;
        _count = 0;
        UserBytes = 0;
        _rep.AsSpan(0, HeaderSize).Clear();
        if (_rep.Length > 1 << 20)
        {
            // Do not pin a huge buffer forever because of one large batch.
            _rep = new byte[256];
        }
    }

    /// <summary>Appends every record of <paramref name="other"/> after this batch's records.</summary>
    internal void AppendFrom(WriteBatch other)
    {
        int body = other._length - HeaderSize;
        EnsureCapacity(body);
        other._rep.AsSpan(HeaderSize, body).CopyTo(_rep.AsSpan(_length));
        _length += body;
        _count += other._count;
        UserBytes += other.UserBytes;
        BinaryPrimitives.WriteUInt32LittleEndian(_rep.AsSpan(8), (uint)_count);
    }

    internal void SetSequence(ulong sequence)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_rep, sequence);
    }

    private void Append(ValueKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool withValue)
    {
        long need = 1L + 5 + key.Length + (withValue ? 5L + value.Length : 0);
        if (need > int.MaxValue - _length - 64)
        {
            throw new ArgumentException("WriteBatch: the record does not fit in a batch (keys and values are limited to 2 GiB in total).");
        }

        EnsureCapacity((int)need);
        Span<byte> dst = _rep.AsSpan(_length);
        dst[0] = (byte)kind;
        int pos = 1;
        pos += WriteVarint32(dst[pos..], (uint)key.Length);
        key.CopyTo(dst[pos..]);
        pos += key.Length;
        if (withValue)
        {
            pos += WriteVarint32(dst[pos..], (uint)value.Length);
            value.CopyTo(dst[pos..]);
            pos += value.Length;
        }

        _length += pos;
        _count++;
        UserBytes += key.Length + value.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(_rep.AsSpan(8), (uint)_count);
    }

    private void EnsureCapacity(int extra)
    {
        long need = (long)_length + extra;
        if (need <= _rep.Length)
        {
            return;
        }

        long size = Math.Max(need, Math.Min((long)_rep.Length * 2, Array.MaxLength));
        Array.Resize(ref _rep, (int)size);
    }

    private static int WriteVarint32(Span<byte> dst, uint v)
    {
        int i = 0;
        while (v >= 0x80)
        {
            dst[i++] = (byte)(v | 0x80);
            v >>= 7;
        }

        dst[i++] = (byte)v;
        return i;
    }
}
