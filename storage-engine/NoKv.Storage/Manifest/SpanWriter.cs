using NoKv.Storage.Encoding;

namespace NoKv.Storage.Manifest;

/// <summary>Growable encoder for manifest records. Not thread-safe.</summary>
internal sealed class SpanWriter
{
    private byte[] _buffer = new byte[256];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Reset() => Length = 0;

    public void Varint64(ulong v)
    {
        Ensure(Varint.MaxLength64);
        Length += Varint.Write64(_buffer.AsSpan(Length), v);
    }

    public void Varint32(uint v)
    {
        Ensure(Varint.MaxLength32);
        Length += Varint.Write32(_buffer.AsSpan(Length), v);
    }

    public void LengthPrefixed(ReadOnlySpan<byte> data)
    {
        Varint32((uint)data.Length);
        Ensure(data.Length);
        data.CopyTo(_buffer.AsSpan(Length));
        Length += data.Length;
    }

    private void Ensure(int extra)
    {
        if (Length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(Length + extra, _buffer.Length * 2));
        }
    }
}
