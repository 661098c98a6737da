using System.Buffers.Binary;
using NoKv.Storage.Encoding;

namespace NoKv.Storage.Wal;

/// <summary>
/// Reads the intact prefix of a log written by <see cref="LogWriter"/>, one forward pass, and says how and where
/// that prefix ended. Not thread-safe.
/// </summary>
/// <remarks>
/// The reader reports, it does not judge: <see cref="TryReadRecord(out ReadOnlySpan{byte}, out bool)"/> returns
/// records while they are intact and returns false at the end of the intact prefix. The prefix ends cleanly at
/// the end of the file, in the &lt; 7 zero bytes that pad a block, or at a zero chunk header followed only by
/// zeros (the zero tail written ahead of the appends); then <see cref="Damage"/> is null. Anything else (a bad
/// checksum, length or type, a record cut short, zeros followed by data) sets <see cref="Damage"/> to the first
/// record that could not be read, and <see cref="Tail"/> then describes what follows it: intact chunks, record
/// starts and durability marks. Whether damage is a power-loss tail to drop or corruption to report depends on
/// what the log's writer promised: the WAL's recovery policy (<see cref="WalReplay"/>) and the manifest's
/// (<see cref="ThrowIfRecordsFollowDamage"/>) decide from these facts.
/// </remarks>
internal sealed class LogReader : IDisposable
{
    // Where the tail scan resumes (see Stop): at the next block's start, or nowhere (the caller scanned already).
    private const int ResumeAtNextBlock = -1;
    private const int AlreadyScanned = -2;

    private readonly Stream _stream;
    private readonly byte[] _block = new byte[LogFormat.BlockSize];
    private byte[] _record = new byte[4096];
    private int _blockLength;
    private int _pos;
    private long _blockStart;
    private bool _eof;
    private bool _done;

    public LogReader(Stream stream, string path)
    {
        _stream = stream;
        Path = path;
        _blockStart = -LogFormat.BlockSize;
    }

    public string Path { get; }

    /// <summary>Offset in the file of the first chunk of the last record returned.</summary>
    public long LastRecordOffset { get; private set; }

    /// <summary>Offset just past the last chunk of the last record returned: the end of the intact prefix so far.</summary>
    public long IntactEnd { get; private set; }

    /// <summary>Set when the intact prefix ended at damage rather than at a clean end (valid once a read returned false).</summary>
    public LogDamage? Damage { get; private set; }

    /// <summary>What follows the end of the intact prefix (valid once a read returned false).</summary>
    public LogTailScan Tail { get; } = new();

    /// <summary>Reads the next data record, skipping meta records. See the other overload.</summary>
    public bool TryReadRecord(out ReadOnlySpan<byte> record)
    {
        while (TryReadRecord(out record, out bool meta))
        {
            if (!meta)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads the next intact record; the span stays valid until the next call. Returns false at the end of the
    /// intact prefix (then <see cref="Damage"/> and <see cref="Tail"/> say how it ended), and on every call after.
    /// </summary>
    /// <param name="meta">True for a meta record (chunk types 5-8), false for a data record.</param>
    public bool TryReadRecord(out ReadOnlySpan<byte> record, out bool meta)
    {
        record = default;
        meta = false;
        if (_done)
        {
            return false;
        }

        int recordLength = 0;
        bool inRecord = false;
        bool recordIsMeta = false;
        long recordStart = 0;
        while (true)
        {
            if (_blockLength - _pos < LogFormat.HeaderSize)
            {
                // The writer pads the last < 7 bytes of a block with zeros; anything else there it did not write.
                long padAt = _blockStart + _pos;
                if (!IsZero(_block.AsSpan(_pos, _blockLength - _pos)))
                {
                    string what = _eof ? "the file ends inside a chunk header" : "non-zero bytes in block padding";
                    return Stop(inRecord ? recordStart : padAt, $"{what} at offset {padAt}", resumePos: ResumeAtNextBlock);
                }

                if (_eof || !ReadBlock())
                {
                    // The end of the file: clean at a record boundary.
                    if (inRecord)
                    {
                        return Stop(recordStart, $"the file ends inside the record (at offset {padAt})", resumePos: ResumeAtNextBlock);
                    }

                    return Stop(null, null, resumePos: ResumeAtNextBlock);
                }

                continue;
            }

            long chunkOffset = _blockStart + _pos;
            long damagedAt = inRecord ? recordStart : chunkOffset;
            ReadOnlySpan<byte> header = _block.AsSpan(_pos, LogFormat.HeaderSize);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
            var type = (LogChunkType)header[6];
            if (type == LogChunkType.Zero)
            {
                // The writer never writes a zero header: this is the zero tail (the clean end, if only zeros follow),
                // or where an unsynced append's pages were lost, or damage.
                Scan(ResumeAtNextBlock, stopAt: chunkOffset);
                if (!inRecord && Tail.DataEnd <= chunkOffset)
                {
                    return Stop(null, null, resumePos: AlreadyScanned);
                }

                return Stop(damagedAt, $"zero chunk header at offset {chunkOffset} before non-zero data", resumePos: AlreadyScanned);
            }

            if (type > LogChunkType.MetaLast)
            {
                return Stop(damagedAt, $"unknown chunk type {(byte)type} at offset {chunkOffset}", resumePos: ResumeAtNextBlock);
            }

            if (LogFormat.HeaderSize + length > _blockLength - _pos)
            {
                string where = _eof && _blockLength < LogFormat.BlockSize ? "the end of the file" : "the end of its block";
                return Stop(damagedAt, $"chunk at offset {chunkOffset} runs past {where}", resumePos: ResumeAtNextBlock);
            }

            ReadOnlySpan<byte> payload = _block.AsSpan(_pos + LogFormat.HeaderSize, length);
            uint crc = Crc32C.Extend(Crc32C.Compute([(byte)type]), payload);
            if (Crc32C.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(header)) != crc)
            {
                // The header looks sound, so the scan may continue past this chunk within the block.
                return Stop(damagedAt, $"checksum mismatch in the chunk at offset {chunkOffset}", resumePos: _pos + LogFormat.HeaderSize + length);
            }

            bool isMeta = type >= LogChunkType.MetaFull;
            LogChunkType kind = isMeta ? type - (LogChunkType.MetaFull - LogChunkType.Full) : type;
            int next = _pos + LogFormat.HeaderSize + length;
            switch (kind)
            {
                case LogChunkType.Full:
                    if (inRecord)
                    {
                        return Stop(recordStart, $"a new record starts at offset {chunkOffset} inside a fragmented record", resumePos: _pos);
                    }

                    _pos = next;
                    LastRecordOffset = chunkOffset;
                    IntactEnd = _blockStart + _pos;
                    record = payload;
                    meta = isMeta;
                    return true;
                case LogChunkType.First:
                    if (inRecord)
                    {
                        return Stop(recordStart, $"a new record starts at offset {chunkOffset} inside a fragmented record", resumePos: _pos);
                    }

                    _pos = next;
                    inRecord = true;
                    recordIsMeta = isMeta;
                    recordStart = chunkOffset;
                    recordLength = 0;
                    Append(ref recordLength, payload);
                    break;
                default:
                    if (!inRecord || isMeta != recordIsMeta)
                    {
                        return Stop(damagedAt, $"continuation chunk at offset {chunkOffset} without its first chunk", resumePos: next);
                    }

                    _pos = next;
                    Append(ref recordLength, payload);
                    if (kind == LogChunkType.Last)
                    {
                        LastRecordOffset = recordStart;
                        IntactEnd = _blockStart + _pos;
                        record = _record.AsSpan(0, recordLength);
                        meta = isMeta;
                        return true;
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// The manifest's policy: every manifest record is synced before the next is appended, so damage followed by
    /// any intact record start lies in synced data and is corruption; damage with nothing but fragments of its own
    /// record (or nothing) after it is the torn last record of a crash, which was never acted upon. REQUIRES: a
    /// read returned false.
    /// </summary>
    /// <exception cref="CorruptionException">Damage before an intact record.</exception>
    public void ThrowIfRecordsFollowDamage()
    {
        if (Damage is { } d && Tail.FirstRecordStart >= 0)
        {
            throw new CorruptionException(Path, d.Offset, $"Log corruption: {d.Reason}; an intact record follows at offset {Tail.FirstRecordStart}.");
        }
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>Ends the read: records the damage (null for a clean end) and scans the rest of the file.</summary>
    /// <param name="resumePos">
    /// Position in the current block where chunk framing is still known (past a damaged chunk with a sound
    /// header), <see cref="ResumeAtNextBlock"/>, or <see cref="AlreadyScanned"/>.
    /// </param>
    private bool Stop(long? damagedAt, string? reason, int resumePos)
    {
        long stopAt = damagedAt ?? IntactEnd;
        if (resumePos != AlreadyScanned)
        {
            Scan(resumePos, stopAt);
        }

        if (damagedAt is { } at)
        {
            Damage = new LogDamage(at, reason!);
        }

        _done = true;
        return false;
    }

    /// <summary>Fills <see cref="Tail"/> from the rest of the current block and every later block.</summary>
    private void Scan(int resumePos, long stopAt)
    {
        long dataEnd = stopAt;
        int from = (int)Math.Clamp(stopAt - _blockStart, 0, _blockLength);
        int lastNonZero = _block.AsSpan(from, _blockLength - from).LastIndexOfAnyExcept((byte)0);
        if (lastNonZero >= 0)
        {
            dataEnd = Math.Max(dataEnd, _blockStart + from + lastNonZero + 1);
        }

        var meta = new MetaAssembly();
        if (resumePos >= 0)
        {
            ScanBlock(_block, _blockLength, _blockStart, resumePos, ref meta);
        }

        if (!_eof)
        {
            byte[] block = new byte[LogFormat.BlockSize];
            long start = _blockStart;
            while (true)
            {
                int n = ReadFully(_stream, block);
                start += LogFormat.BlockSize;
                if (n == 0)
                {
                    break;
                }

                int nz = block.AsSpan(0, n).LastIndexOfAnyExcept((byte)0);
                if (nz >= 0)
                {
                    dataEnd = start + nz + 1;
                }

                ScanBlock(block, n, start, 0, ref meta);
                if (n < LogFormat.BlockSize)
                {
                    break;
                }
            }

            _eof = true;
        }

        Tail.DataEnd = dataEnd;
    }

    /// <summary>Follows chunk framing from <paramref name="pos"/> to the end of the block, or to a header it cannot trust.</summary>
    private void ScanBlock(byte[] block, int length, long blockStart, int pos, ref MetaAssembly meta)
    {
        while (length - pos >= LogFormat.HeaderSize)
        {
            int chunkLength = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(pos + 4));
            var type = (LogChunkType)block[pos + 6];
            if (type == LogChunkType.Zero || type > LogChunkType.MetaLast || LogFormat.HeaderSize + chunkLength > length - pos)
            {
                // Framing is lost for the rest of this block; the next block starts with a header again.
                meta.Reset();
                return;
            }

            uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(pos));
            ReadOnlySpan<byte> payload = block.AsSpan(pos + LogFormat.HeaderSize, chunkLength);
            long offset = blockStart + pos;
            pos += LogFormat.HeaderSize + chunkLength;
            if (Crc32C.Unmask(storedCrc) != Crc32C.Extend(Crc32C.Compute([(byte)type]), payload))
            {
                // A sound header with a bad checksum: skip the chunk by its length and keep following the framing.
                meta.Reset();
                continue;
            }

            if (Tail.FirstIntactChunk < 0)
            {
                Tail.FirstIntactChunk = offset;
            }

            if (type is LogChunkType.Full or LogChunkType.First or LogChunkType.MetaFull or LogChunkType.MetaFirst && Tail.FirstRecordStart < 0)
            {
                Tail.FirstRecordStart = offset;
            }

            switch (type)
            {
                case LogChunkType.MetaFull:
                    meta.Reset();
                    AddMark(payload, offset);
                    break;
                case LogChunkType.MetaFirst:
                    meta.Start(payload, offset);
                    break;
                case LogChunkType.MetaMiddle:
                    meta.Add(payload);
                    break;
                case LogChunkType.MetaLast:
                    if (meta.Add(payload))
                    {
                        AddMark(meta.Bytes, meta.Offset);
                    }

                    meta.Reset();
                    break;
                default:
                    meta.Reset();
                    break;
            }
        }
    }

    private void AddMark(ReadOnlySpan<byte> payload, long offset)
    {
        if (DurableMark.TryDecode(payload, out DurableMark mark))
        {
            Tail.Marks.Add((mark, offset));
        }
    }

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

    /// <summary>Reassembles a fragmented meta record met by the scan (marks are small: at most two blocks).</summary>
    private struct MetaAssembly
    {
        private byte[]? _bytes;
        private int _length;
        private bool _active;

        public long Offset { get; private set; }

        public readonly ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

        public void Start(ReadOnlySpan<byte> payload, long offset)
        {
            _bytes ??= new byte[64];
            _length = 0;
            _active = true;
            Offset = offset;
            Add(payload);
        }

        /// <summary>Appends a fragment; false if no record is being assembled (or it is too long to be a mark).</summary>
        public bool Add(ReadOnlySpan<byte> payload)
        {
            if (!_active || _length + payload.Length > _bytes!.Length)
            {
                _active = false;
                return false;
            }

            payload.CopyTo(_bytes.AsSpan(_length));
            _length += payload.Length;
            return true;
        }

        public void Reset() => _active = false;
    }
}
