using System.Diagnostics;
using NoKv.Storage.Compaction;
using NoKv.Storage.Db;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.ValueLog;
using NoKv.Storage.Vfs;

namespace NoKv.Storage;

/// <summary>Memtable flush: frozen memtables become level-0 tables on the flush thread.</summary>
public sealed partial class Database
{
    private long _flushesCompleted;

    // Value log counters (StorageStatistics).
    private long _valueFilesCreated;
    private long _valueBytesRelocated;

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
        // The logs the switch closed: synced here, off the write path, soon after the switch.
        SyncClosedLogs();
        long t0 = Stopwatch.GetTimestamp();
        var valueFiles = new List<ValueFileMeta>();
        FileMetaData? file = WriteLevel0Table(imm, valueFiles);
        var edit = new VersionEdit();
        edit.NewValueFiles.AddRange(valueFiles);
        Interlocked.Add(ref _valueFilesCreated, valueFiles.Count);
        if (file is not null)
        {
            _fs.SyncDirectory(Path);
            edit.AddFile(0, file);
            _counters.AddFlush((file.EntryCount > 0 ? file.Size : 0) + ValueFileBytes(valueFiles));
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

            // The database's own reference; the memtable's arena is recycled once the last reader's goes too.
            imm.Unref();
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
    /// Writes a memtable's visible point entries to a new synced table file and returns its metadata (range
    /// tombstones ride along in the metadata); a memtable with only tombstones, or whose every entry is hidden,
    /// yields a file record with no table behind it, an empty one yields null. The caller makes the name durable
    /// (directory fsync) before recording the file in the manifest.
    /// </summary>
    /// <remarks>
    /// Versions no reader can see are left out, as compaction does (<see cref="HiddenVersionFilter"/>): older
    /// versions of a key overwritten in the same memtable, and entries covered by a newer range tombstone of
    /// the same memtable, when no open snapshot lies between the two sequences. Why here and not only in
    /// compaction: a replica's Raft log entries are truncated by range deletions every few seconds, long
    /// before their memtable fills, and its hard state is overwritten on every Ready, so most of a silo's
    /// memtable is dead by flush time; writing it out only to drop it in the next compaction cost CPU and
    /// disk bandwidth on both. The tombstones themselves are all kept (they may cover older data below).
    /// Safe for readers: one without a snapshot that reads the new table reads at a sequence at or above the
    /// memtable's last (its super version was taken after the flush, and every entry of a frozen memtable was
    /// published before it froze), so it would not see a hidden version either; one with a snapshot is what
    /// the stripes protect. The newest sequence in the memtable is never hidden (nothing is newer), so the
    /// table's largest sequence, which orders level 0, is what it would have been.
    /// </remarks>
    /// <para>
    /// With the value log on, each value of at least <see cref="StorageOptions.ValueLogMinValueBytes"/> goes to a
    /// value file written alongside (synced before the table), and the table holds its pointer; the value files
    /// written are added to <paramref name="valueFiles"/> for the caller's manifest edit.
    /// </para>
    private FileMetaData? WriteLevel0Table(MemTable mem, List<ValueFileMeta> valueFiles)
    {
        RangeTombstone[] tombstones = mem.RangeTombstones.ToArray();
        if (mem.EntryCount == tombstones.Length && tombstones.Length == 0)
        {
            return null;
        }

        ulong number = _versions.NewFileNumber();
        TableFileWriter? writer = null;
        ValueSeparator? separator = null;
        int minSeparated = _options.ValueLogMinValueBytes;
        byte[] pointerKey = [];
        long hiddenCount = 0;
        if (mem.EntryCount > tombstones.Length)
        {
            var hidden = new HiddenVersionFilter(new SnapshotStripes(_snapshots.GetSequences()), RangeTombstoneIndex.Build(tombstones));
            try
            {
                using MemTableIterator it = mem.NewIterator();
                for (it.SeekToFirst(); it.Valid; it.Next())
                {
                    if (hidden.IsHidden(it.Key))
                    {
                        hiddenCount++;
                        continue;
                    }

                    writer ??= new TableFileWriter(_fs, Path, number, _writeOptionsByLevel[0], _options.TableBytesPerSync, _backgroundWriteLimiter);
                    ReadOnlySpan<byte> value = it.Value;
                    if (minSeparated > 0 && value.Length >= minSeparated && InternalKey.KindOf(it.Key) == ValueKind.Value)
                    {
                        separator ??= NewValueSeparator();
                        ReadOnlySpan<byte> pointer = separator.Add(InternalKey.UserKey(it.Key), value, out ValuePointer p);
                        writer.Add(PointerKey(it.Key, ref pointerKey), pointer);
                        writer.NoteValueFile(p.FileNumber, p.Size);
                    }
                    else
                    {
                        writer.Add(it.Key, value);
                    }
                }

                // Value files first: once the table is synced, the values it points to must be too.
                if (separator is not null)
                {
                    valueFiles.AddRange(separator.Finish());
                }
            }
            catch
            {
                writer?.Abandon();
                separator?.Abandon();
                throw;
            }
        }

        _counters.AddFlushHidden(hiddenCount);
        if (writer is not null)
        {
            try
            {
                return writer.Finish(tombstones);
            }
            catch
            {
                separator?.Abandon();
                throw;
            }
        }

        // Only range deletions remain: a file record with no table behind it.
        var bounds = new FileBoundsTracker();
        foreach (RangeTombstone t in tombstones)
        {
            bounds.AddTombstone(t);
        }

        return bounds.ToFile(number, 0, 0, tombstones);
    }

    private ValueSeparator NewValueSeparator() =>
        new(_fs, Path, _versions.NewFileNumber, _options.ValueFileSizeBytes, _options.TableBytesPerSync, _backgroundWriteLimiter);

    /// <summary><paramref name="internalKey"/> with its kind changed to <see cref="ValueKind.ValuePointer"/>, in <paramref name="buffer"/>.</summary>
    private static ReadOnlySpan<byte> PointerKey(ReadOnlySpan<byte> internalKey, ref byte[] buffer)
    {
        if (buffer.Length < internalKey.Length)
        {
            buffer = new byte[Math.Max(internalKey.Length, 64)];
        }

        ulong trailer = InternalKey.TrailerOf(internalKey);
        return buffer.AsSpan(0, InternalKey.Write(buffer, InternalKey.UserKey(internalKey), (trailer & ~0xFFUL) | (byte)ValueKind.ValuePointer));
    }

    private static long ValueFileBytes(List<ValueFileMeta> files)
    {
        long total = 0;
        foreach (ValueFileMeta f in files)
        {
            total += f.FileSize;
        }

        return total;
    }
}
