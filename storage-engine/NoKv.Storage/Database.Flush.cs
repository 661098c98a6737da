using System.Diagnostics;
using NoKv.Storage.Db;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage;

/// <summary>Memtable flush: frozen memtables become level-0 tables on the flush thread.</summary>
public sealed partial class Database
{
    private long _flushesCompleted;

    /// <summary>Writes the current memtable to a level-0 table and waits until it is durable in the manifest.</summary>
    public void Flush()
    {
        ThrowIfDisposed();
        long target = 0;
        RunExclusive(() =>
        {
            if (!_mem.IsEmpty)
            {
                SwitchMemtable();
            }

            lock (_mutex)
            {
                target = Volatile.Read(ref _flushesCompleted) + _immutables.Length;
            }
        });
        WaitForFlushes(target);
    }

    private void WaitForFlushes(long target)
    {
        lock (_mutex)
        {
            while (Volatile.Read(ref _flushesCompleted) < target)
            {
                if (_backgroundError is { } bg)
                {
                    throw new IOException("Background flush failed: " + bg.Message, bg);
                }

                Monitor.Wait(_mutex, 100);
            }
        }
    }

    private void FlushLoop()
    {
        BackgroundThreadPriority.LowerCurrentThread(_options.BackgroundThreadNice);
        while (true)
        {
            MemTable imm;
            lock (_mutex)
            {
                while (_immutables.Length == 0 && !_closing)
                {
                    Monitor.Wait(_mutex);
                }

                if (_immutables.Length == 0 || _backgroundError is not null)
                {
                    return;
                }

                imm = _immutables[^1];
            }

            try
            {
                FlushImmutable(imm);
            }
            catch (Exception e)
            {
                SetBackgroundError(e);
                return;
            }
        }
    }

    /// <summary>Flush thread only: writes the oldest frozen memtable out and drops it from the list.</summary>
    private void FlushImmutable(MemTable imm)
    {
        long t0 = Stopwatch.GetTimestamp();
        FileMetaData? file = WriteLevel0Table(imm);
        var edit = new VersionEdit();
        if (file is not null)
        {
            _fs.SyncDirectory(Path);
            edit.AddFile(0, file);
            _counters.AddFlush(file.EntryCount > 0 ? file.Size : 0);
        }

        // Every log older than the next unflushed memtable's is now redundant.
        ulong nextLog;
        lock (_mutex)
        {
            nextLog = _immutables.Length >= 2 ? _immutables[^2].LogNumber : _mem.LogNumber;
        }

        edit.LogNumber = nextLog;
        _versions.LogAndApply(edit, LastSequence);
        lock (_mutex)
        {
            _immutables = _immutables[..^1];
            InstallSuperVersion();
            _flushesCompleted++;
            _compactionRequested = true;
            Monitor.PulseAll(_mutex);
        }

        // Each memtable has its own log, and memtables are flushed oldest first, so this memtable's log is the
        // only one the new log number made obsolete (logs replayed at open were deleted then).
        // Gradually when so configured: the log is a memtable's worth of bytes, and freeing them at once stalls the
        // device on file systems with online discard, right when every other write waits on a WAL sync.
        TryDeleteLog(FileNames.Log(Path, imm.LogNumber));

        _counters.AddFlushTime(Stopwatch.GetElapsedTime(t0));
    }

    /// <summary>
    /// Writes a memtable's point entries to a new synced table file and returns its metadata (range
    /// tombstones ride along in the metadata); a memtable with only tombstones yields a file record with no
    /// table behind it, an empty one yields null. The caller makes the name durable (directory fsync)
    /// before recording the file in the manifest.
    /// </summary>
    private FileMetaData? WriteLevel0Table(MemTable mem)
    {
        RangeTombstone[] tombstones = mem.RangeTombstones.ToArray();
        if (mem.EntryCount == tombstones.Length && tombstones.Length == 0)
        {
            return null;
        }

        ulong number = _versions.NewFileNumber();
        if (mem.EntryCount == tombstones.Length)
        {
            // Only range deletions: a file record with no table behind it.
            var bounds = new FileBoundsTracker();
            foreach (RangeTombstone t in tombstones)
            {
                bounds.AddTombstone(t);
            }

            return bounds.ToFile(number, 0, 0, tombstones);
        }

        var writer = new TableFileWriter(_fs, Path, number, _tableOptions, _options.TableBytesPerSync, _backgroundWriteLimiter);
        try
        {
            using MemTableIterator it = mem.NewIterator();
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                writer.Add(it.Key, it.Value);
            }
        }
        catch
        {
            writer.Abandon();
            throw;
        }

        return writer.Finish(tombstones);
    }
}
