namespace NoKv.Storage.Vfs;

/// <summary>
/// Contents of one in-memory file: the bytes appended so far and how many of them a Sync made durable.
/// Thread-safe (under the lock its file system shares among its files).
/// </summary>
/// <remarks>
/// Zero fill ahead (<see cref="IWritableFile.SetZeroFillAhead"/>) is modelled where it matters, after a crash:
/// a sync also makes durable the zeros a physical file would have past its appends, so
/// <see cref="CrashCopy"/> returns the surviving bytes followed by zeros up to that point. The live view
/// (<see cref="Length"/>, <see cref="Read"/>, <see cref="ToArray"/>) holds the appended bytes only.
/// </remarks>
internal sealed class MemFile
{
    // Shared by every file of one MemFileSystem, so a crash clone sees all files at one instant.
    private readonly object _gate;
    private byte[] _data;
    private int _length;
    private int _synced;
    private int _zeroFillAhead;
    private long _syncedZeroEnd;

    public MemFile(object gate, byte[]? initial = null)
    {
        _gate = gate;
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
    public MemFile CrashCopy(int extraUnsynced, object gate)
    {
        lock (_gate)
        {
            int keep = (int)Math.Min(_length, (long)_synced + Math.Max(0, extraUnsynced));
            byte[] survived = new byte[Math.Max(keep, _syncedZeroEnd)];
            _data.AsSpan(0, keep).CopyTo(survived);
            return new MemFile(gate, survived);
        }
    }

    /// <summary>
    /// What survives a power loss under the page model: the synced prefix and the synced zeros written ahead stay;
    /// each 4 KiB page holding unsynced bytes independently survives whole, survives as an earlier version (a
    /// prefix of its unsynced bytes, zeros after it), survives torn (a random subset of its 512-byte sectors), or
    /// is lost. Lost bytes read as zeros where the file had durable zeros, and beyond that as zeros or, with
    /// <paramref name="staleGarbage"/>, as random bytes (a file system that exposes the old contents of newly
    /// allocated blocks). The file is as long as its durable part or its last surviving byte, whichever is larger.
    /// </summary>
    public MemFile PowerLossCopy(Random rng, bool staleGarbage, object gate)
    {
        const int Page = 4096;
        const int Sector = 512;
        lock (_gate)
        {
            long durable = Math.Max(_synced, _syncedZeroEnd);
            bool[] keep = new bool[_length - _synced];
            long keptEnd = 0;
            for (long page = _synced / Page * Page; page < _length; page += Page)
            {
                int from = (int)Math.Max(page, _synced);
                int to = (int)Math.Min(page + Page, _length);
                int fate = rng.Next(4);
                int prefix = fate switch
                {
                    0 => 0,
                    1 => to - from,
                    _ => rng.Next(to - from + 1),
                };
                int sectorMask = rng.Next(1 << (Page / Sector));
                for (int i = from; i < to; i++)
                {
                    bool kept = fate == 3 ? (sectorMask & (1 << (int)((i - page) / Sector))) != 0 : i - from < prefix;
                    keep[i - _synced] = kept;
                    if (kept)
                    {
                        keptEnd = i + 1;
                    }
                }
            }

            byte[] survived = new byte[Math.Max(durable, keptEnd)];
            _data.AsSpan(0, _synced).CopyTo(survived);
            for (int i = _synced; i < survived.Length && i < _length; i++)
            {
                if (keep[i - _synced])
                {
                    survived[i] = _data[i];
                }
                else if (staleGarbage && i >= durable)
                {
                    survived[i] = (byte)rng.Next(256);
                }
            }

            return new MemFile(gate, survived);
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
