using Microsoft.Win32.SafeHandles;

namespace NoKv.Storage.Vfs;

/// <summary>
/// Append-only file with a private write buffer; bytes reach the OS on <see cref="Flush"/> (or when the buffer
/// fills) through positional writes, and the disk on <see cref="Sync"/>. Not thread-safe.
/// </summary>
/// <remarks>
/// With <see cref="SetZeroFillAhead"/>, every flush first makes sure zeros have been written (not synced) well
/// past the bytes it is about to write. The first sync after such a zero fill persists the zeros and the new file
/// size once; the syncs after it overwrite already-allocated, already-sized space and journal nothing.
/// Physically written zeros rather than fallocate: ext4 tracks fallocated space as unwritten extents and must
/// journal their conversion when a write first lands in each block, which measured nearly as slow as growing.
/// </remarks>
internal sealed class PhysicalWritableFile : IWritableFile
{
    private const int BufferSize = 64 << 10;
    private const int ZeroFillAlignment = 4096;
    private static readonly byte[] Zeros = new byte[BufferSize];

    private readonly SafeFileHandle _handle;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _buffered;
    private long _flushedLength;
    private int _zeroFillAhead;

    // Invariant: bytes in [max(_flushedLength, Length), _zeroedEnd) of the file are zeros we wrote.
    private long _zeroedEnd;

    public PhysicalWritableFile(string path, FileMode mode)
    {
        Path = path;
        _handle = File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        _flushedLength = RandomAccess.GetLength(_handle);
    }

    public string Path { get; }

    public long Length => _flushedLength + _buffered;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length <= BufferSize - _buffered)
        {
            data.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += data.Length;
            return;
        }

        Flush();
        if (data.Length >= BufferSize)
        {
            ZeroFillBefore(_flushedLength + data.Length);
            RandomAccess.Write(_handle, data, _flushedLength);
            _flushedLength += data.Length;
        }
        else
        {
            data.CopyTo(_buffer);
            _buffered = data.Length;
        }
    }

    public void Flush()
    {
        if (_buffered == 0)
        {
            return;
        }

        ZeroFillBefore(_flushedLength + _buffered);
        RandomAccess.Write(_handle, _buffer.AsSpan(0, _buffered), _flushedLength);
        _flushedLength += _buffered;
        _buffered = 0;
    }

    public void SetZeroFillAhead(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _zeroFillAhead = bytes;
    }

    /// <summary>
    /// Before bytes up to <paramref name="end"/> are written: once fewer than half the requested zeros are left
    /// past <paramref name="end"/>, writes zeros up to <paramref name="end"/> + the requested amount (rounded to
    /// a page), in one go, so a sync pays for the size change once per that many bytes.
    /// </summary>
    private void ZeroFillBefore(long end)
    {
        if (_zeroFillAhead == 0 || end + (_zeroFillAhead / 2) <= _zeroedEnd)
        {
            return;
        }

        long from = Math.Max(_zeroedEnd, end);
        long to = (end + _zeroFillAhead + ZeroFillAlignment - 1) / ZeroFillAlignment * ZeroFillAlignment;
        while (from < to)
        {
            int n = (int)Math.Min(Zeros.Length, to - from);
            RandomAccess.Write(_handle, Zeros.AsSpan(0, n), from);
            from += n;
        }

        _zeroedEnd = to;
    }

    public void BeginSync()
    {
        Flush();
        if (OperatingSystem.IsLinux())
        {
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);

                // Offset 0, length 0: every dirty page of the file. Errors are ignored here: the Sync that follows
                // reports them (it waits for this writeback and checks it).
                _ = FileSyncNative.SyncFileRange((int)_handle.DangerousGetHandle(), 0, 0, FileSyncNative.SyncFileRangeWrite);
            }
            finally
            {
                if (added)
                {
                    _handle.DangerousRelease();
                }
            }
        }
    }

    public void Sync()
    {
        Flush();
        if (OperatingSystem.IsLinux())
        {
            // fdatasync persists the data and the metadata needed to read it back (the file size), skipping
            // timestamps: one journal write fewer per WAL sync than fsync.
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                if (FileSyncNative.DataSync((int)_handle.DangerousGetHandle()) != 0)
                {
                    throw new IOException($"fdatasync of '{Path}' failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
                }
            }
            finally
            {
                if (added)
                {
                    _handle.DangerousRelease();
                }
            }
        }
        else
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            _handle.Dispose();
        }
    }
}
