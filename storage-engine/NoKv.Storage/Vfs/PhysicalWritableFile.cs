using Microsoft.Win32.SafeHandles;

namespace NoKv.Storage.Vfs;

/// <summary>
/// Append-only file with a private write buffer; bytes reach the OS on <see cref="Flush"/> (or when the buffer
/// fills) through positional writes, and the disk on <see cref="Sync"/>. Not thread-safe.
/// </summary>
internal sealed class PhysicalWritableFile : IWritableFile
{
    private const int BufferSize = 64 << 10;

    private readonly SafeFileHandle _handle;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _buffered;
    private long _flushedLength;

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

        RandomAccess.Write(_handle, _buffer.AsSpan(0, _buffered), _flushedLength);
        _flushedLength += _buffered;
        _buffered = 0;
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
