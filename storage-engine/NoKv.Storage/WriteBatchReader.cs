using System.Buffers.Binary;
using NoKv.Storage.Encoding;

namespace NoKv.Storage;

/// <summary>
/// Decodes a serialized <see cref="WriteBatch"/> (format in its remarks) one record at a time.
/// <see cref="IsMalformed"/> reports input that does not parse; the caller turns it into a
/// <see cref="CorruptionException"/> with the location it knows.
/// </summary>
internal ref struct WriteBatchReader
{
    private ReadOnlySpan<byte> _rest;
    private int _remaining;

    public WriteBatchReader(ReadOnlySpan<byte> rep)
    {
        if (rep.Length < WriteBatch.HeaderSize)
        {
            IsMalformed = true;
            return;
        }

        Sequence = BinaryPrimitives.ReadUInt64LittleEndian(rep);
        Count = (int)BinaryPrimitives.ReadUInt32LittleEndian(rep[8..]);
        _remaining = Count;
        _rest = rep[WriteBatch.HeaderSize..];
    }

    public ulong Sequence { get; }

    public int Count { get; }

    public bool IsMalformed { get; private set; }

    public bool TryNext(out ValueKind kind, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        kind = default;
        key = default;
        value = default;
        if (IsMalformed)
        {
            return false;
        }

        if (_remaining == 0)
        {
            IsMalformed = !_rest.IsEmpty;
            return false;
        }

        if (_rest.IsEmpty)
        {
            IsMalformed = true;
            return false;
        }

        kind = (ValueKind)_rest[0];
        _rest = _rest[1..];
        if (!TryLengthPrefixed(out key))
        {
            return false;
        }

        switch (kind)
        {
            case ValueKind.Value:
            case ValueKind.RangeDeletion:
                if (!TryLengthPrefixed(out value))
                {
                    return false;
                }

                break;
            case ValueKind.Deletion:
                break;
            default:
                IsMalformed = true;
                return false;
        }

        _remaining--;
        return true;
    }

    private bool TryLengthPrefixed(out ReadOnlySpan<byte> data)
    {
        data = default;
        int n = Varint.TryRead32(_rest, out uint len);
        if (n == 0 || len > (uint)(_rest.Length - n))
        {
            IsMalformed = true;
            return false;
        }

        data = _rest.Slice(n, (int)len);
        _rest = _rest[(n + (int)len)..];
        return true;
    }
}
