using System.Buffers;
using NoKv.Storage.Db;
using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.ValueLog;

/// <summary>
/// Writes one value file (docs/format-value-file.md) front to back. The file is synced by <see cref="Finish"/>;
/// the caller makes its name durable (directory fsync) before a manifest edit names it. Not thread-safe.
/// </summary>
internal sealed class ValueFileWriter
{
    private readonly IFileSystem _fs;
    private readonly IWritableFile _file;
    private readonly long _bytesPerSync;
    private readonly WriteRateLimiter? _limiter;
    private readonly long _checkEvery;
    private long _checkedLength;
    private long _entries;
    private long _valueBytes;

    // Pacing granularity without a writeback interval, as for tables.
    private const long PacingChunkBytes = 1 << 20;

    public ValueFileWriter(IFileSystem fs, string dir, ulong number, long bytesPerSync, WriteRateLimiter? limiter)
    {
        _fs = fs;
        Number = number;
        _bytesPerSync = bytesPerSync;
        _limiter = limiter;
        _checkEvery = bytesPerSync > 0 ? bytesPerSync : limiter is not null ? PacingChunkBytes : long.MaxValue;
        _file = fs.CreateWritable(FileNames.ValueFile(dir, number));
        try
        {
            Span<byte> header = stackalloc byte[ValueFileFormat.HeaderSize];
            ValueFileFormat.WriteHeader(header);
            _file.Append(header);
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    public ulong Number { get; }

    public long Length => _file.Length;

    /// <summary>Appends one value (with its key, for verification and recovery tools) and returns its pointer.</summary>
    public ValuePointer Add(ReadOnlySpan<byte> userKey, ReadOnlySpan<byte> value)
    {
        int head = Varint.Length32((uint)userKey.Length) + Varint.Length32((uint)value.Length);
        int recordLength = head + userKey.Length + value.Length + 4;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(recordLength);
        try
        {
            Span<byte> record = buffer.AsSpan(0, recordLength);
            int n = Varint.Write32(record, (uint)userKey.Length);
            n += Varint.Write32(record[n..], (uint)value.Length);
            userKey.CopyTo(record[n..]);
            n += userKey.Length;
            int valueStart = n;
            value.CopyTo(record[n..]);
            n += value.Length;
            uint valueCrc = Crc32C.Compute(value);
            uint recordCrc = Crc32C.Extend(Crc32C.Compute(record[..valueStart]), value);
            Fixed.Write32(record[n..], Crc32C.Mask(recordCrc));
            long offset = _file.Length + valueStart;
            _file.Append(record);
            _entries++;
            _valueBytes += value.Length;
            Pace();
            return new ValuePointer(Number, (ulong)offset, value.Length, Crc32C.Mask(valueCrc));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the footer, syncs and closes the file; returns what the manifest records about it.</summary>
    public ValueFileMeta Finish()
    {
        try
        {
            Span<byte> footer = stackalloc byte[ValueFileFormat.FooterSize];
            ValueFileFormat.WriteFooter(footer, _entries, _valueBytes);
            _file.Append(footer);
            _limiter?.Acquire(_file.Length - _checkedLength);
            _file.Sync();
            long size = _file.Length;
            _file.Dispose();
            return new ValueFileMeta(Number, size, _entries, _valueBytes);
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    /// <summary>Stops writing and deletes the partial file (best effort; the open-time sweep catches leftovers).</summary>
    public void Abandon()
    {
        string path = _file.Path;
        _file.Dispose();
        try
        {
            _fs.DeleteFile(path);
        }
        catch (IOException)
        {
            // Named by no manifest: the sweep at the next open deletes it.
        }
    }

    private void Pace()
    {
        long written = _file.Length - _checkedLength;
        if (written < _checkEvery)
        {
            return;
        }

        _checkedLength += written;
        if (_bytesPerSync > 0)
        {
            _file.BeginSync();
        }

        _limiter?.Acquire(written);
    }
}
