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
/// <para>
/// On 64-bit Linux, zero fill also switches appends from buffer-and-pwrite to copies into a shared memory
/// mapping of the zero-filled space (remapped about once per zero fill). A copy into the page cache is handed
/// to the OS as surely as a pwrite (it survives a crash of the process, and <see cref="Sync"/>'s fdatasync writes
/// the dirty mapped pages back) but costs no system call: with one small WAL record per unsynced write, the
/// pwrite path was about a quarter of the write path's time. Appends larger than half a window use pwrite.
/// The space is allocated before it is mapped (the zeros were written), so a store cannot fail for lack of
/// space; a failed mmap falls back to pwrite for good.
/// </para>
/// <para>
/// Mapped appends are used only once <see cref="MapAfterUnsyncedBytes"/> have been appended since the last
/// <see cref="Sync"/>: writeback write-protects the mapped pages it cleans (a TLB flush, and a page fault on the
/// next store), which made each synced append about 20% slower than a pwrite. Logs that sync often keep using
/// pwrite; logs written without syncs switch to the mapping.
/// </para>
/// <para>
/// The next window is prepared on a background thread (<see cref="AppendWindowPreparer"/>) while appends fill the
/// current one: its zero fill and its mapping (and the unmapping of the window before) used to run inside the append
/// that crossed the window's end, once per half MiB of log, 300-360 us each on the reference VM, the largest part of
/// the WAL's tail in YCSB's write traces. The prepared window starts half a window before the current one ends (so an
/// append that crosses the end, at most half a window long, lies in it) and ends a whole window after. Only one
/// preparation runs at a time; while it runs, it alone extends the zero fill, and the writer touches only bytes below
/// the zero fill's end as it was when the preparation started (appends into the current window, and pwrites that need
/// no zero fill); anything else (a zero fill of its own, a remap, dispose) waits for it first. An append that outruns
/// it waits for it too, which still costs less than doing the work; a preparation that fails leaves the work to the
/// writer, which then meets the error itself.
/// </para>
/// </remarks>
internal sealed unsafe class PhysicalWritableFile : IWritableFile
{
    private const int BufferSize = 64 << 10;
    private const int ZeroFillAlignment = 4096;
    private const long MapAfterUnsyncedBytes = 256 << 10;
    private static readonly byte[] Zeros = new byte[BufferSize];

    private readonly SafeFileHandle _handle;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _buffered;
    private long _flushedLength;
    private int _zeroFillAhead;

    // Invariant: bytes in [max(_flushedLength, Length), _zeroedEnd) of the file are zeros we wrote.
    private long _zeroedEnd;

    // Mapped appends (see remarks): _map maps file bytes [_mapStart, _mapEnd); _mapEnd <= _zeroedEnd <= file
    // size, so every mapped page lies inside the file. An append goes to the mapping only with nothing buffered.
    private bool _mapped;
    private byte* _map;
    private long _mapStart;
    private long _mapEnd;
    private long _appendedSinceSync;

    // Window preparation (see remarks). While _preparing is set, the preparing thread alone writes _zeroedEnd,
    // _next*, and _retired*; the writer reads them only after it saw _preparing clear (a volatile read, the
    // preparation's last write before it signals _prepared) or waited on _prepared.
    private volatile bool _preparing;
    private readonly ManualResetEventSlim _prepared = new(true);
    private long _prepareStart;
    private long _prepareEnd;
    private byte* _nextMap;
    private long _nextStart;
    private long _nextEnd;
    private byte* _retiredMap;
    private long _retiredLength;
    private long _preparedWindowsTaken;
    private long _inlineRemaps;

    public PhysicalWritableFile(string path, FileMode mode)
    {
        Path = path;
        _handle = File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        _flushedLength = RandomAccess.GetLength(_handle);
    }

    public string Path { get; }

    public long Length => _flushedLength + _buffered;

    /// <summary>Append windows taken ready from a preparation (for tests).</summary>
    internal long PreparedWindowsTaken => _preparedWindowsTaken;

    /// <summary>Append windows the writer had to zero-fill and map itself (for tests).</summary>
    internal long InlineRemaps => _inlineRemaps;

    /// <summary>Waits until no window preparation is in flight (the writer's own wait; for tests).</summary>
    internal void WaitForPreparation()
    {
        if (_preparing)
        {
            _prepared.Wait();
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _appendedSinceSync += data.Length;
        if (_mapped && _appendedSinceSync >= MapAfterUnsyncedBytes)
        {
            // Buffered bytes go first: mapped appends land at the append position.
            Flush();
            if (AppendMapped(data))
            {
                return;
            }
        }

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
        Flush();
        _zeroFillAhead = bytes;
        if (bytes == 0)
        {
            Unmap();
            _mapped = false;
        }
        else
        {
            _mapped = OperatingSystem.IsLinux() && Environment.Is64BitProcess;
        }
    }

    /// <summary>
    /// REQUIRES: nothing buffered. Copies <paramref name="data"/> into the mapping, remapping if needed, or writes
    /// it with pwrite if it is large; false (with nothing written) when mapping failed and appends must use the
    /// buffer from now on.
    /// </summary>
    private bool AppendMapped(ReadOnlySpan<byte> data)
    {
        long end = _flushedLength + data.Length;
        if (end > _mapEnd)
        {
            if (data.Length > _zeroFillAhead / 2)
            {
                // Written at once, never buffered: later appends go to the mapping, past these bytes.
                ZeroFillBefore(end);
                RandomAccess.Write(_handle, data, _flushedLength);
                _flushedLength = end;
                return true;
            }

            if (!TakePreparedWindow(end))
            {
                _inlineRemaps++;
                if (!Remap(end))
                {
                    return false;
                }
            }

            PrepareNextWindow();
        }

        data.CopyTo(new Span<byte>(_map + (_flushedLength - _mapStart), data.Length));
        _flushedLength = end;
        return true;
    }

    /// <summary>
    /// Switches to the prepared window if it holds [append position, <paramref name="end"/>): the current window is
    /// left for the next preparation to unmap. Waits for a preparation still running.
    /// </summary>
    private bool TakePreparedWindow(long end)
    {
        WaitForPreparation();
        if (_nextMap is null || _nextStart > _flushedLength || _nextEnd < end)
        {
            return false;
        }

        _retiredMap = _map;
        _retiredLength = _mapEnd - _mapStart;
        _map = _nextMap;
        _mapStart = _nextStart;
        _mapEnd = _nextEnd;
        _nextMap = null;
        _preparedWindowsTaken++;
        return true;
    }

    /// <summary>Starts preparing the window after the current one on the preparer's thread (see remarks).</summary>
    private void PrepareNextWindow()
    {
        if (!_mapped || _map is null)
        {
            return;
        }

        long pageSize = Environment.SystemPageSize;
        _prepareStart = Math.Max(_mapStart, (_mapEnd - (_zeroFillAhead / 2)) / pageSize * pageSize);
        _prepareEnd = (_mapEnd + _zeroFillAhead + pageSize - 1) / pageSize * pageSize;
        _prepared.Reset();
        _preparing = true;
        AppendWindowPreparer.Enqueue(this);
    }

    /// <summary>
    /// The preparation itself, on <see cref="AppendWindowPreparer"/>'s thread: unmaps the retired window, zero-fills up
    /// to the next window's end, maps it.
    /// </summary>
    internal void RunPreparation()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            if (_retiredMap is not null)
            {
                _ = FileSyncNative.Munmap((nint)_retiredMap, (nuint)_retiredLength);
                _retiredMap = null;
            }

            long from = _zeroedEnd;
            while (from < _prepareEnd)
            {
                int n = (int)Math.Min(Zeros.Length, _prepareEnd - from);
                RandomAccess.Write(_handle, Zeros.AsSpan(0, n), from);
                from += n;
            }

            // After the zeros: a writer that reads the new end may write data below it at once.
            Volatile.Write(ref _zeroedEnd, Math.Max(_zeroedEnd, _prepareEnd));
            nint address = FileSyncNative.Mmap(0, (nuint)(_prepareEnd - _prepareStart), FileSyncNative.ProtRead | FileSyncNative.ProtWrite, FileSyncNative.MapShared, (int)_handle.DangerousGetHandle(), _prepareStart);
            if (address != FileSyncNative.MapFailed)
            {
                _nextMap = (byte*)address;
                _nextStart = _prepareStart;
                _nextEnd = _prepareEnd;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // The writer zero-fills and maps the window itself when it gets there, and meets the error then.
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }

            _preparing = false;
            _prepared.Set();
        }
    }

    /// <summary>Zero-fills past <paramref name="end"/> and maps from the page holding the append position to the zeros' end.</summary>
    private bool Remap(long end)
    {
        Unmap();
        ZeroFillBefore(end, fromAppendPosition: true);
        long pageSize = Environment.SystemPageSize;
        long start = _flushedLength / pageSize * pageSize;
        long length = _zeroedEnd - start;
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            nint address = FileSyncNative.Mmap(0, (nuint)length, FileSyncNative.ProtRead | FileSyncNative.ProtWrite, FileSyncNative.MapShared, (int)_handle.DangerousGetHandle(), start);
            if (address == FileSyncNative.MapFailed)
            {
                _mapped = false;
                return false;
            }

            _map = (byte*)address;
            _mapStart = start;
            _mapEnd = _zeroedEnd;
            return true;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    private void Unmap()
    {
        WaitForPreparation();
        if (_retiredMap is not null)
        {
            _ = FileSyncNative.Munmap((nint)_retiredMap, (nuint)_retiredLength);
            _retiredMap = null;
        }

        if (_nextMap is not null)
        {
            _ = FileSyncNative.Munmap((nint)_nextMap, (nuint)(_nextEnd - _nextStart));
            _nextMap = null;
        }

        if (_map is not null)
        {
            _ = FileSyncNative.Munmap((nint)_map, (nuint)(_mapEnd - _mapStart));
            _map = null;
            _mapStart = _mapEnd = 0;
        }
    }

    /// <summary>
    /// Before bytes up to <paramref name="end"/> are written: once fewer than half the requested zeros are left
    /// past <paramref name="end"/>, writes zeros up to <paramref name="end"/> + the requested amount (rounded to
    /// a page), in one go, so a sync pays for the size change once per that many bytes.
    /// </summary>
    /// <param name="end">End of the bytes about to be written.</param>
    /// <param name="fromAppendPosition">
    /// Fill from the append position rather than from <paramref name="end"/>: the bytes will be stored through the
    /// mapping, which must find every page it touches already written (allocated), not a hole.
    /// </param>
    private void ZeroFillBefore(long end, bool fromAppendPosition = false)
    {
        // Reading the end while a preparation may extend it is safe: bytes below any value read are zeros already.
        if (_zeroFillAhead == 0 || end + (_zeroFillAhead / 2) <= Volatile.Read(ref _zeroedEnd))
        {
            return;
        }

        // The preparation alone extends the fill while it runs.
        WaitForPreparation();
        if (end + (_zeroFillAhead / 2) <= _zeroedEnd)
        {
            return;
        }

        long from = Math.Max(_zeroedEnd, fromAppendPosition ? _flushedLength : end);
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
        _appendedSinceSync = 0;
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
            Unmap();
            _handle.Dispose();
            _prepared.Dispose();
        }
    }
}
