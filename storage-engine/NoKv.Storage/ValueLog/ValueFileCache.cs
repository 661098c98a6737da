using System.Collections.Concurrent;
using NoKv.Storage.Db;
using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.ValueLog;

/// <summary>
/// Open read handles of value files, and the checked read of one value through a <see cref="ValuePointer"/>.
/// </summary>
/// <remarks>
/// A handle is opened on first use and closed when the file becomes obsolete (<see cref="Evict"/>). Reads are
/// positional, so any number of threads read through one handle. REQUIRES of every read: the caller holds a
/// version that references the file (a super version or an iterator's), so it cannot be deleted meanwhile.
/// Every value is checked against the pointer's CRC before it is handed out; a short read (a truncated file),
/// a missing file or a mismatch is a <see cref="CorruptionException"/> naming the file and the value's offset.
/// </remarks>
internal sealed class ValueFileCache : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly ConcurrentDictionary<ulong, IRandomAccessFile> _open = new();
    private readonly Lock _openLock = new();
    private bool _disposed;

    public ValueFileCache(IFileSystem fs, string dir)
    {
        _fs = fs;
        _dir = dir;
    }

    /// <summary>Reads and checks the value <paramref name="pointer"/> names into <paramref name="destination"/> (exactly its size).</summary>
    public void Read(in ValuePointer pointer, Span<byte> destination)
    {
        IRandomAccessFile file = Get(pointer.FileNumber);
        long offset = (long)pointer.Offset;
        if (offset < ValueFileFormat.HeaderSize || offset + pointer.Size > file.Length)
        {
            throw new CorruptionException(file.Path, offset, $"Value pointer names bytes [{offset}, {offset + pointer.Size}) outside the value file ({file.Length} bytes).");
        }

        int read = 0;
        while (read < pointer.Size)
        {
            int n = file.Read(offset + read, destination[read..pointer.Size]);
            if (n <= 0)
            {
                throw new CorruptionException(file.Path, offset, "Value file ends inside a value.");
            }

            read += n;
        }

        if (ValueFileFormat.ValueChecksum(destination[..pointer.Size]) != pointer.Checksum)
        {
            throw new CorruptionException(file.Path, offset, "Value checksum mismatch.");
        }
    }

    /// <summary>Decodes <paramref name="encodedPointer"/> and reads its value into <paramref name="buffer"/> (grown as needed).</summary>
    /// <returns>The value, valid until the buffer is reused.</returns>
    public ReadOnlySpan<byte> Read(ReadOnlySpan<byte> encodedPointer, string tablePath, ref byte[] buffer)
    {
        ValuePointer pointer = ValuePointer.Decode(encodedPointer, tablePath);
        if (buffer.Length < pointer.Size)
        {
            buffer = new byte[Math.Max(pointer.Size, buffer.Length * 2)];
        }

        Read(pointer, buffer);
        return buffer.AsSpan(0, pointer.Size);
    }

    /// <summary>Reads the value into a sink without an intermediate copy.</summary>
    public void ReadInto<TSink>(in ValuePointer pointer, ref TSink sink)
        where TSink : struct, IValueSink
    {
        Span<byte> destination = sink.Reserve(pointer.Size);
        Read(pointer, destination);
        sink.Commit(pointer.Size);
    }

    /// <summary>Closes the file's handle (it is obsolete, or about to be deleted).</summary>
    public void Evict(ulong number)
    {
        lock (_openLock)
        {
            if (_open.TryRemove(number, out IRandomAccessFile? file))
            {
                file.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_openLock)
        {
            _disposed = true;
            foreach (IRandomAccessFile file in _open.Values)
            {
                file.Dispose();
            }

            _open.Clear();
        }
    }

    private IRandomAccessFile Get(ulong number)
    {
        if (_open.TryGetValue(number, out IRandomAccessFile? file))
        {
            return file;
        }

        lock (_openLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_open.TryGetValue(number, out file))
            {
                return file;
            }

            string path = FileNames.ValueFile(_dir, number);
            try
            {
                file = _fs.OpenRandomAccess(path);
            }
            catch (FileNotFoundException e)
            {
                throw new CorruptionException(path, 0, "A table points into a value file that does not exist.", e);
            }

            _open[number] = file;
            return file;
        }
    }
}
