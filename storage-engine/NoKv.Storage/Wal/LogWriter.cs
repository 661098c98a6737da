using System.Buffers.Binary;
using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Wal;

/// <summary>
/// Appends records in the log framing (docs/format-wal.md) to a file. Not thread-safe: the write path's
/// group-commit leader (or the manifest lock holder) is the only caller. Owns the file.
/// </summary>
/// <remarks>
/// A WAL writer (the constructor with a log number) also appends <see cref="DurableMark"/> meta records, which
/// let recovery tell data lost with unsynced pages from damage to data a completed sync had made durable:
/// after each <see cref="Sync"/>, the next record is preceded by a mark of the offset that sync covered; a new
/// log carries a mark of its predecessor's full length once that log has been synced (<see cref="AddForeignMark"/>,
/// appended by the first group after the sync); <see cref="Seal"/> ends a log with a synced mark.
/// Invariant: a mark (L, X) is appended only after an fdatasync of log L covering [0, X) has returned.
/// </remarks>
internal sealed class LogWriter : IDisposable
{
    private readonly IWritableFile _file;
    private readonly byte[] _header = new byte[LogFormat.HeaderSize];
    private static readonly byte[] Zeros = new byte[LogFormat.HeaderSize];
    private readonly bool _marks;
    private readonly ulong _number;
    private int _blockOffset;

    // Marks: the offset the last completed sync covered, and the largest offset a mark in this log has claimed.
    private long _syncedThrough;
    private long _claimed;

    /// <summary>A writer without marks (the manifest). REQUIRES: the file is empty.</summary>
    public LogWriter(IWritableFile file)
    {
        _file = file;
        _blockOffset = (int)(file.Length % LogFormat.BlockSize);
    }

    /// <summary>
    /// A WAL writer for log <paramref name="number"/> that appends durability marks. REQUIRES: the file is empty
    /// (logs are never appended to across opens). With <paramref name="predecessor"/>, the log starts with that
    /// mark (appended now; the caller syncs it, and guarantees it is true).
    /// </summary>
    public LogWriter(IWritableFile file, ulong number, DurableMark? predecessor)
        : this(file)
    {
        _marks = true;
        _number = number;
        if (predecessor is { } p)
        {
            AppendMark(p);

            // The mark itself needs no mark of its own once synced: nothing before it is data of this log.
            _claimed = _file.Length;
        }
    }

    public string Path => _file.Path;

    /// <summary>The log's number (0 for a writer without marks).</summary>
    public ulong Number => _number;

    /// <summary>Bytes in the file, framing and marks included.</summary>
    public long Length => _file.Length;

    /// <summary>Bytes the last completed <see cref="Sync"/> made durable (marks only; 0 otherwise).</summary>
    public long SyncedThrough => _syncedThrough;

    /// <summary>Appends a data record (a WAL write batch or a manifest edit).</summary>
    public void AddRecord(ReadOnlySpan<byte> record)
    {
        if (_marks && _syncedThrough > _claimed)
        {
            AppendMark(new DurableMark(_number, _syncedThrough));
        }

        AddRecord(record, meta: false);
    }

    /// <summary>
    /// Appends a mark about another log (the predecessor this log replaced at a memtable switch). REQUIRES: an
    /// fdatasync of that log covering [0, mark.Offset) has returned. Rides with the next write of this log.
    /// </summary>
    public void AddForeignMark(DurableMark mark)
    {
        if (!_marks || mark.LogNumber == _number)
        {
            throw new InvalidOperationException("Only a WAL writer appends marks of other logs.");
        }

        AppendMark(mark);
    }

    /// <summary>Hands appended bytes to the OS (survives a process crash).</summary>
    public void Flush() => _file.Flush();

    /// <summary>Hands appended bytes to the OS and starts writing them to the device (see <see cref="IWritableFile.BeginSync"/>).</summary>
    public void BeginSync() => _file.BeginSync();

    /// <summary>Makes every appended record durable.</summary>
    public void Sync()
    {
        long end = _file.Length;
        _file.Sync();
        _syncedThrough = end;
    }

    /// <summary>
    /// At close: syncs, then appends and syncs a mark of everything before it, so that recovery can prove the
    /// whole log durable (damage anywhere before the mark is then reported, never dropped). Costs a second
    /// fdatasync, once per log close. A writer without marks just syncs.
    /// </summary>
    public void Seal()
    {
        if (_file.Length != _syncedThrough || !_marks)
        {
            Sync();
        }

        if (_marks && _syncedThrough > _claimed)
        {
            AppendMark(new DurableMark(_number, _syncedThrough));
            Sync();
        }
    }

    public void Dispose() => _file.Dispose();

    private void AppendMark(DurableMark mark)
    {
        Span<byte> payload = stackalloc byte[DurableMark.EncodedLength];
        mark.EncodeTo(payload);
        AddRecord(payload, meta: true);
        if (mark.LogNumber == _number)
        {
            _claimed = Math.Max(_claimed, mark.Offset);
        }
    }

    private void AddRecord(ReadOnlySpan<byte> record, bool meta)
    {
        bool first = true;
        do
        {
            int left = LogFormat.BlockSize - _blockOffset;
            if (left < LogFormat.HeaderSize)
            {
                // Too little room for a header: pad the block and start the next one.
                if (left > 0)
                {
                    _file.Append(Zeros.AsSpan(0, left));
                }

                _blockOffset = 0;
                left = LogFormat.BlockSize;
            }

            int avail = left - LogFormat.HeaderSize;
            int n = Math.Min(avail, record.Length);
            bool last = n == record.Length;
            LogChunkType type = first && last ? LogChunkType.Full
                : first ? LogChunkType.First
                : last ? LogChunkType.Last
                : LogChunkType.Middle;
            if (meta)
            {
                type += LogChunkType.MetaFull - LogChunkType.Full;
            }

            EmitChunk(type, record[..n]);
            record = record[n..];
            first = false;
        }
        while (!record.IsEmpty);
    }

    private void EmitChunk(LogChunkType type, ReadOnlySpan<byte> payload)
    {
        uint crc = Crc32C.Extend(Crc32C.Compute([(byte)type]), payload);
        BinaryPrimitives.WriteUInt32LittleEndian(_header, Crc32C.Mask(crc));
        BinaryPrimitives.WriteUInt16LittleEndian(_header.AsSpan(4), (ushort)payload.Length);
        _header[6] = (byte)type;
        _file.Append(_header);
        _file.Append(payload);
        _blockOffset += LogFormat.HeaderSize + payload.Length;
    }
}
