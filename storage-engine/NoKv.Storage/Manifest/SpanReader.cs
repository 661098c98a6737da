using NoKv.Storage.Encoding;

namespace NoKv.Storage.Manifest;

/// <summary>
/// Sequential decoder over a byte span for manifest records and export streams. Every read checks bounds and
/// reports malformed input through <see cref="Failed"/> rather than throwing, so the caller can raise a
/// <see cref="CorruptionException"/> with the file and offset it knows.
/// </summary>
internal ref struct SpanReader
{
    private ReadOnlySpan<byte> _rest;

    public SpanReader(ReadOnlySpan<byte> data)
    {
        _rest = data;
        Failed = false;
    }

    public bool Failed { get; private set; }

    public readonly bool IsEmpty => _rest.IsEmpty;

    public ulong Varint64()
    {
        int n = Varint.TryRead64(_rest, out ulong v);
        if (n == 0)
        {
            Failed = true;
            _rest = default;
            return 0;
        }

        _rest = _rest[n..];
        return v;
    }

    public uint Varint32()
    {
        int n = Varint.TryRead32(_rest, out uint v);
        if (n == 0)
        {
            Failed = true;
            _rest = default;
            return 0;
        }

        _rest = _rest[n..];
        return v;
    }

    public ReadOnlySpan<byte> LengthPrefixed()
    {
        uint len = Varint32();
        if (Failed || len > (uint)_rest.Length)
        {
            Failed = true;
            _rest = default;
            return default;
        }

        ReadOnlySpan<byte> result = _rest[..(int)len];
        _rest = _rest[(int)len..];
        return result;
    }
}
