using System.Buffers.Binary;
using NoKv.Storage.Encoding;

namespace NoKv.Storage.Wal;

/// <summary>
/// Reads records written by <see cref="LogWriter"/>, one forward pass. Not thread-safe.
/// </summary>
/// <remarks>
/// A crash can leave a torn tail: a partly written last record, or garbage where the disk wrote some pages
/// of unsynced data. Such a tail ends the log cleanly (<see cref="TryReadRecord"/> returns false). A bad
/// chunk that is followed by an intact chunk later in the file cannot be a torn tail (the writer never
/// wrote past it after a crash), so it is reported as <see cref="CorruptionException"/> with the offset of
/// the bad chunk: data the log acknowledged is never silently dropped. A log whose file ends in zeros (written
/// ahead of the appends so that syncs need not grow the file) ends cleanly at the first zero chunk header.
/// </remarks>
internal sealed class LogReader : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _block = new byte[LogFormat.BlockSize];
    private byte[] _record = new byte[4096];
    private int _blockLength;
    private int _pos;
    private long _blockStart;
    private bool _eof;

    public LogReader(Stream stream, string path)
    {
        _stream = stream;
        Path = path;
        _blockStart = -LogFormat.BlockSize;
    }

    public string Path { get; }

    /// <summary>Offset in the file of the first chunk of the last record returned.</summary>
    public long LastRecordOffset { get; private set; }

    /// <summary>
    /// True when the log ended with a torn tail rather than at a clean record boundary (the end of the file, or
    /// a zero chunk header followed only by zeros).
    /// </summary>
    public bool HitTornTail { get; private set; }

    /// <summary>
    /// Reads the next record; the span stays valid until the next call. Returns false at the end of the log.
    /// </summary>
    /// <exception cref="CorruptionException">A damaged chunk before intact data.</exception>
    public bool TryReadRecord(out ReadOnlySpan<byte> record)
    {
        record = default;
        int recordLength = 0;
        bool inRecord = false;
        long recordStart = 0;
        while (true)
        {
            if (_blockLength - _pos < LogFormat.HeaderSize)
            {
                if (_eof || !ReadBlock())
                {
                    if (inRecord || (_blockLength - _pos > 0 && !IsZero(_block.AsSpan(_pos, _blockLength - _pos))))
                    {
                        // The file ends inside a header or inside a multi-chunk record: a torn tail.
                        HitTornTail = true;
                    }

                    return false;
                }

                continue;
            }

            long chunkOffset = _blockStart + _pos;
            ReadOnlySpan<byte> header = _block.AsSpan(_pos, LogFormat.HeaderSize);
            uint maskedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
            var type = (LogChunkType)header[6];
            if (type == LogChunkType.Zero)
            {
                // The writer pads only the last < 7 bytes of a block, so a zero header is never a chunk. It is
                // either the end of the log (the writer fills the file with zeros ahead of its appends), or the
                // start of an unsynced append whose pages were lost, or damage.
                // Zeros inside a fragmented record are a torn tail at best, never a clean end.
                return BadChunk(chunkOffset, "zero chunk header", zeroHeader: !inRecord);
            }

            if (LogFormat.HeaderSize + length > _blockLength - _pos)
            {
                return BadChunk(chunkOffset, "chunk length runs past the end of the block");
            }

            ReadOnlySpan<byte> payload = _block.AsSpan(_pos + LogFormat.HeaderSize, length);
            uint crc = Crc32C.Extend(Crc32C.Compute([(byte)type]), payload);
            if (Crc32C.Unmask(maskedCrc) != crc)
            {
                return BadChunk(chunkOffset, "chunk checksum mismatch");
            }

            _pos += LogFormat.HeaderSize + length;
            switch (type)
            {
                case LogChunkType.Full:
                    if (inRecord)
                    {
                        return BadChunk(chunkOffset, "full chunk inside a fragmented record");
                    }

                    LastRecordOffset = chunkOffset;
                    record = payload;
                    return true;
                case LogChunkType.First:
                    if (inRecord)
                    {
                        return BadChunk(chunkOffset, "first chunk inside a fragmented record");
                    }

                    inRecord = true;
                    recordStart = chunkOffset;
                    recordLength = 0;
                    Append(ref recordLength, payload);
                    break;
                case LogChunkType.Middle:
                case LogChunkType.Last:
                    if (!inRecord)
                    {
                        return BadChunk(chunkOffset, "continuation chunk without a first chunk");
                    }

                    Append(ref recordLength, payload);
                    if (type == LogChunkType.Last)
                    {
                        LastRecordOffset = recordStart;
                        record = _record.AsSpan(0, recordLength);
                        return true;
                    }

                    break;
                default:
                    return BadChunk(chunkOffset, $"unknown chunk type {(byte)type}");
            }
        }
    }

    public void Dispose() => _stream.Dispose();

    private void Append(ref int recordLength, ReadOnlySpan<byte> payload)
    {
        if (recordLength + payload.Length > _record.Length)
        {
            Array.Resize(ref _record, Math.Max(recordLength + payload.Length, _record.Length * 2));
        }

        payload.CopyTo(_record.AsSpan(recordLength));
        recordLength += payload.Length;
    }

    private bool ReadBlock()
    {
        _blockStart += LogFormat.BlockSize;
        _blockLength = ReadFully(_stream, _block);
        _pos = 0;
        if (_blockLength < LogFormat.BlockSize)
        {
            _eof = true;
        }

        return _blockLength > 0;
    }

    /// <summary>
    /// A bad chunk ends the log if nothing intact follows it; otherwise it is corruption. A zero header with
    /// only zeros after it is the clean end of a log whose file was filled with zeros ahead of the writer.
    /// </summary>
    private bool BadChunk(long offset, string what, bool zeroHeader = false)
    {
        bool restIsZero = zeroHeader && IsZero(_block.AsSpan(_pos, _blockLength - _pos));
        if (IntactChunkFollows(ref restIsZero))
        {
            throw new CorruptionException(Path, offset, $"Log corruption: {what}.");
        }

        HitTornTail = !restIsZero;
        _eof = true;
        _pos = _blockLength;
        return false;
    }

    /// <summary>
    /// Whether any later block of the file starts with a chunk whose checksum verifies. Reads the rest of the
    /// file, and clears <paramref name="allZero"/> when any of it is not zero.
    /// </summary>
    private bool IntactChunkFollows(ref bool allZero)
    {
        if (_eof)
        {
            return false;
        }

        byte[] probe = new byte[LogFormat.BlockSize];
        while (true)
        {
            int n = ReadFully(_stream, probe);
            allZero = allZero && IsZero(probe.AsSpan(0, n));
            if (n >= LogFormat.HeaderSize)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(probe.AsSpan(4));
                byte type = probe[6];
                if (type is >= 1 and <= 4 && LogFormat.HeaderSize + length <= n)
                {
                    uint crc = Crc32C.Extend(Crc32C.Compute([type]), probe.AsSpan(LogFormat.HeaderSize, length));
                    if (Crc32C.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(probe)) == crc)
                    {
                        return true;
                    }
                }
            }

            if (n < LogFormat.BlockSize)
            {
                return false;
            }
        }
    }

    private static int ReadFully(Stream s, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer, total, buffer.Length - total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static bool IsZero(ReadOnlySpan<byte> s) => s.IndexOfAnyExcept((byte)0) < 0;
}
