namespace NoKv.Storage.Vfs;

/// <summary>
/// Contents of one in-memory file: the bytes appended so far and how many of them a Sync made durable.
/// Thread-safe (its own lock).
/// </summary>
/// <remarks>
/// Zero fill ahead (<see cref="IWritableFile.SetZeroFillAhead"/>) is modelled where it matters, after a crash:
/// a sync also makes durable the zeros a physical file would have past its appends, so
/// <see cref="CrashCopy"/> returns the surviving bytes followed by zeros up to that point. The live view
/// (<see cref="Length"/>, <see cref="Read"/>, <see cref="ToArray"/>) holds the appended bytes only.
/// </remarks>
internal sealed class MemFile
{
    private readonly Lock _gate = new();
    private byte[] _data;
    private int _length;
    private int _synced;
    private int _zeroFillAhead;
    private long _syncedZeroEnd;

    public MemFile(byte[]? initial = null)
    {
        _data = initial ?? [];
        _length = _data.Length;
        _synced = _length;
    }

    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _length;
            }
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            long need = (long)_length + data.Length;
            if (need > Array.MaxLength)
            {
                throw new IOException("In-memory file too large.");
            }

            if (need > _data.Length)
            {
                Array.Resize(ref _data, (int)Math.Min(Array.MaxLength, Math.Max(need, Math.Max(256, (long)_data.Length * 2))));
            }

            data.CopyTo(_data.AsSpan(_length));
            _length = (int)need;
        }
    }

    public void Sync()
    {
        lock (_gate)
        {
            _synced = _length;
            if (_zeroFillAhead > 0)
            {
                _syncedZeroEnd = Math.Max(_syncedZeroEnd, (long)_length + _zeroFillAhead);
            }
        }
    }

    /// <summary>From now on, each sync also makes <paramref name="bytes"/> of zeros past the appends durable.</summary>
    public void SetZeroFillAhead(int bytes)
    {
        lock (_gate)
        {
            _zeroFillAhead = bytes;
        }
    }

    public int Read(long offset, Span<byte> destination)
    {
        lock (_gate)
        {
            if (offset >= _length)
            {
                return 0;
            }

            int n = (int)Math.Min(destination.Length, _length - offset);
            _data.AsSpan((int)offset, n).CopyTo(destination);
            return n;
        }
    }

    /// <summary>The current buffer pinned as a mapping of the file's current length; null for an empty file.</summary>
    public FileMapping? Pin()
    {
        lock (_gate)
        {
            return _length > 0 ? MemFileMapping.Create(_data, _length) : null;
        }
    }

    public byte[] ToArray()
    {
        lock (_gate)
        {
            return _data.AsSpan(0, _length).ToArray();
        }
    }

    /// <summary>
    /// What survives a crash: the synced prefix plus up to <paramref name="extraUnsynced"/> bytes after it, then
    /// any zeros written ahead of the appends and synced.
    /// </summary>
    public MemFile CrashCopy(int extraUnsynced)
    {
        lock (_gate)
        {
            int keep = (int)Math.Min(_length, (long)_synced + Math.Max(0, extraUnsynced));
            byte[] survived = new byte[Math.Max(keep, _syncedZeroEnd)];
            _data.AsSpan(0, keep).CopyTo(survived);
            return new MemFile(survived);
        }
    }

    public int UnsyncedBytes
    {
        get
        {
            lock (_gate)
            {
                return _length - _synced;
            }
        }
    }

    /// <summary>Test hook: overwrite bytes in place (simulates media corruption; also counts as synced data).</summary>
    public void Overwrite(long offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (offset < 0 || offset + data.Length > _length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset));
            }

            data.CopyTo(_data.AsSpan((int)offset));
        }
    }
}
