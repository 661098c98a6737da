namespace NoKv.Storage.Encoding;

/// <summary>
/// Sequential decoder over stored bytes that turns every malformed or truncated field into a
/// <see cref="CorruptionException"/> naming the file, the offset of the unit being decoded and what it is.
/// </summary>
internal ref struct CheckedSpanReader(ReadOnlySpan<byte> source, string path, long offset, string what)
{
    private ReadOnlySpan<byte> _rest = source;

    public readonly int Remaining => _rest.Length;

    public long ReadVarint64AsLong()
    {
        int n = Varint.TryRead64(_rest, out ulong value);
        if (n == 0 || value > long.MaxValue)
        {
            throw Corrupt();
        }

        _rest = _rest.Slice(n);
        return (long)value;
    }

    public uint ReadVarint32()
    {
        int n = Varint.TryRead32(_rest, out uint value);
        if (n == 0)
        {
            throw Corrupt();
        }

        _rest = _rest.Slice(n);
        return value;
    }

    /// <summary>A varint32 length followed by that many bytes; the span aliases the source.</summary>
    public ReadOnlySpan<byte> ReadLengthPrefixed()
    {
        uint length = ReadVarint32();
        if (length > (uint)_rest.Length)
        {
            throw Corrupt();
        }

        ReadOnlySpan<byte> bytes = _rest.Slice(0, (int)length);
        _rest = _rest.Slice((int)length);
        return bytes;
    }

    private readonly CorruptionException Corrupt() => new(path, offset, $"{what} is malformed");
}
