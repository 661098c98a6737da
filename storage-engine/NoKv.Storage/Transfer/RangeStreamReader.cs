using System.Buffers.Binary;
using NoKv.Storage.Encoding;
using NoKv.Storage.Manifest;

namespace NoKv.Storage.Transfer;

/// <summary>
/// Reads and verifies a range export written by <see cref="RangeStreamWriter"/>: magic, per-record
/// checksums, strictly increasing keys inside the expected range, and the final count. Any violation is a
/// <see cref="CorruptionException"/> with the stream offset. Not thread-safe.
/// </summary>
internal sealed class RangeStreamReader
{
    private const string StreamName = "<range stream>";
    private const int MaxRecordBytes = 1 << 30;

    private readonly Stream _stream;
    private readonly byte[] _header = new byte[9];
    private byte[] _payload = new byte[64 << 10];
    private int _payloadLength;
    private int _pos;
    private long _offset;
    private long _recordOffset;
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength;
    private bool _haveLastKey;
    private bool _ended;

    public RangeStreamReader(Stream stream)
    {
        _stream = stream;
        Span<byte> magic = stackalloc byte[8];
        if (ReadFully(magic) != 8 || !magic.SequenceEqual(RangeStreamWriter.Magic))
        {
            throw Corrupt(0, "not a NoKv range stream (bad magic)");
        }

        if (ReadRecord() != RangeStreamRecordType.Header)
        {
            throw Corrupt(_recordOffset, "first record is not a header");
        }

        var r = new SpanReader(_payload.AsSpan(0, _payloadLength));
        Start = r.LengthPrefixed().ToArray();
        End = r.LengthPrefixed().ToArray();
        EndUnbounded = r.Varint32() != 0;
        if (r.Failed)
        {
            throw Corrupt(_recordOffset, "malformed header");
        }

        _payloadLength = 0;
    }

    public byte[] Start { get; }

    public byte[] End { get; }

    public bool EndUnbounded { get; }

    public long Count { get; private set; }

    /// <summary>
    /// The next entry, or false after the End record (whose count has then been verified). Spans are valid
    /// until the next call.
    /// </summary>
    public bool TryRead(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = default;
        value = default;
        while (_pos >= _payloadLength)
        {
            if (_ended)
            {
                return false;
            }

            RangeStreamRecordType type = ReadRecord();
            if (type == RangeStreamRecordType.End)
            {
                var end = new SpanReader(_payload.AsSpan(0, _payloadLength));
                ulong count = end.Varint64();
                if (end.Failed || count != (ulong)Count)
                {
                    throw Corrupt(_recordOffset, $"end record counts {count} entries but the stream held {Count}");
                }

                _ended = true;
                _payloadLength = 0;
                return false;
            }

            if (type != RangeStreamRecordType.Entries)
            {
                throw Corrupt(_recordOffset, $"unexpected record type {(byte)type}");
            }

            _pos = 0;
        }

        var r = new SpanReader(_payload.AsSpan(_pos, _payloadLength - _pos));
        key = r.LengthPrefixed();
        value = r.LengthPrefixed();
        if (r.Failed)
        {
            throw Corrupt(_recordOffset, "malformed entry");
        }

        _pos += Varint.Length32((uint)key.Length) + key.Length + Varint.Length32((uint)value.Length) + value.Length;
        if (_haveLastKey && key.SequenceCompareTo(_lastKey.AsSpan(0, _lastKeyLength)) <= 0)
        {
            throw Corrupt(_recordOffset, "keys are not strictly increasing");
        }

        if (_lastKey.Length < key.Length)
        {
            _lastKey = new byte[key.Length * 2];
        }

        key.CopyTo(_lastKey);
        _lastKeyLength = key.Length;

        _haveLastKey = true;
        Count++;
        return true;
    }

    private RangeStreamRecordType ReadRecord()
    {
        _recordOffset = _offset;
        if (ReadFully(_header) != _header.Length)
        {
            throw Corrupt(_recordOffset, "stream ends before its end record");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(1));
        if (length < 0 || length > MaxRecordBytes)
        {
            throw Corrupt(_recordOffset, $"record length {length} out of range");
        }

        if (_payload.Length < length)
        {
            _payload = new byte[length];
        }

        if (ReadFully(_payload.AsSpan(0, length)) != length)
        {
            throw Corrupt(_recordOffset, "stream ends inside a record");
        }

        uint crc = Crc32C.Extend(Crc32C.Compute(_header.AsSpan(0, 1)), _payload.AsSpan(0, length));
        if (Crc32C.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(5))) != crc)
        {
            throw Corrupt(_recordOffset, "record checksum mismatch");
        }

        _payloadLength = length;
        return (RangeStreamRecordType)_header[0];
    }

    private int ReadFully(Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = _stream.Read(buffer[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        _offset += total;
        return total;
    }

    private static CorruptionException Corrupt(long offset, string what) => new(StreamName, offset, "Range stream: " + what + ".");
}
