using System.Buffers.Binary;
using NoKv.Storage.Encoding;
using NoKv.Storage.Manifest;

namespace NoKv.Storage.Transfer;

/// <summary>
/// Writes a range export (docs/format-export.md):
/// <code>
/// stream := magic "NOKVRNG1" record*
/// record := type:u8 length:fixed32 masked_crc32c(type ++ payload):fixed32 payload[length]
/// Header(1)  start:lenbytes end:lenbytes endIsUnbounded:u8
/// Entries(2) (key:lenbytes value:lenbytes)*      up to about 64 KiB per record
/// End(3)     count:varint64
/// </code>
/// Not thread-safe.
/// </summary>
internal sealed class RangeStreamWriter
{
    public static ReadOnlySpan<byte> Magic => "NOKVRNG1"u8;

    private const int TargetRecordBytes = 64 << 10;

    private readonly Stream _stream;
    private readonly SpanWriter _entries = new();
    private readonly byte[] _header = new byte[9];
    private long _count;

    public RangeStreamWriter(Stream stream, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, bool endUnbounded)
    {
        _stream = stream;
        stream.Write(Magic);
        var header = new SpanWriter();
        header.LengthPrefixed(start);
        header.LengthPrefixed(end);
        header.Varint32(endUnbounded ? 1u : 0u);
        WriteRecord(RangeStreamRecordType.Header, header.Written);
    }

    public long Count => _count;

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        _entries.LengthPrefixed(key);
        _entries.LengthPrefixed(value);
        _count++;
        if (_entries.Length >= TargetRecordBytes)
        {
            WriteRecord(RangeStreamRecordType.Entries, _entries.Written);
            _entries.Reset();
        }
    }

    public void Finish()
    {
        if (_entries.Length > 0)
        {
            WriteRecord(RangeStreamRecordType.Entries, _entries.Written);
            _entries.Reset();
        }

        var end = new SpanWriter();
        end.Varint64((ulong)_count);
        WriteRecord(RangeStreamRecordType.End, end.Written);
        _stream.Flush();
    }

    private void WriteRecord(RangeStreamRecordType type, ReadOnlySpan<byte> payload)
    {
        _header[0] = (byte)type;
        BinaryPrimitives.WriteInt32LittleEndian(_header.AsSpan(1), payload.Length);
        uint crc = Crc32C.Extend(Crc32C.Compute(_header.AsSpan(0, 1)), payload);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(5), Crc32C.Mask(crc));
        _stream.Write(_header);
        _stream.Write(payload);
    }
}
