using System.Buffers.Binary;
using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Wal;

/// <summary>
/// Appends records in the log framing (docs/format-wal.md) to a file. Not thread-safe: the write path's
/// group-commit leader (or the manifest lock holder) is the only caller. Owns the file.
/// </summary>
internal sealed class LogWriter : IDisposable
{
    private readonly IWritableFile _file;
    private readonly byte[] _header = new byte[LogFormat.HeaderSize];
    private static readonly byte[] Zeros = new byte[LogFormat.HeaderSize];
    private int _blockOffset;

    /// <summary>REQUIRES: the file is empty (logs are never appended to across opens).</summary>
    public LogWriter(IWritableFile file)
    {
        _file = file;
        _blockOffset = (int)(file.Length % LogFormat.BlockSize);
    }

    public string Path => _file.Path;

    /// <summary>Bytes in the file, framing included.</summary>
    public long Length => _file.Length;

    public void AddRecord(ReadOnlySpan<byte> record)
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
            EmitChunk(type, record[..n]);
            record = record[n..];
            first = false;
        }
        while (!record.IsEmpty);
    }

    /// <summary>Hands appended bytes to the OS (survives a process crash).</summary>
    public void Flush() => _file.Flush();

    /// <summary>Hands appended bytes to the OS and starts writing them to the device (see <see cref="IWritableFile.BeginSync"/>).</summary>
    public void BeginSync() => _file.BeginSync();

    /// <summary>Makes every appended record durable.</summary>
    public void Sync() => _file.Sync();

    public void Dispose() => _file.Dispose();

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
