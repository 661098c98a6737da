using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.ValueLog;
using NoKv.Storage.Wal;

namespace NoKv.Storage;

/// <summary>Open-time recovery and obsolete-file cleanup.</summary>
public sealed partial class Database
{
    private WalRecoveryReport _walRecovery = new();

    /// <summary>
    /// Rebuilds the live state: replays the manifest, replays every WAL at or above its log number into
    /// memtables that are written out as level-0 tables (up to the first damaged record; <see cref="WalReplay"/>
    /// decides whether damage is a power-loss tail to drop or corruption to report), starts a fresh WAL and a fresh manifest (which makes
    /// the replayed logs obsolete), then deletes every file the new state does not reference.
    /// A crash at any step leaves the previous CURRENT, manifest and logs intact, so recovery simply repeats.
    /// </summary>
    private void Recover()
    {
        if (_versions.DatabaseExists())
        {
            _versions.Recover();
        }
        else if (!_options.CreateIfMissing)
        {
            throw new FileNotFoundException($"No database in '{Path}' and CreateIfMissing is false.");
        }

        IReadOnlyList<string> names = _fs.ListFiles(Path);
        var logs = new List<ulong>();
        foreach (string name in names)
        {
            if (FileNames.TryParse(name, out FileKind kind, out ulong number))
            {
                _versions.MarkFileNumberUsed(number);
                if (kind == FileKind.Log && number >= _versions.LogNumber)
                {
                    logs.Add(number);
                }
            }
        }

        logs.Sort();
        ulong maxSequence = _versions.LastSequence;
        var recoveredFiles = new List<FileMetaData>();
        var recoveredValueFiles = new List<ValueFileMeta>();
        // Pooled like the live memtables: a replayed log is up to a memtable's worth of arena, which the first
        // memtables after open then reuse instead of leaving it as large-object garbage.
        MemTable mem = new(0, _memory.MemtableBytes, _arenaChunks);
        WalRecoveryReport report;
        using (var wal = new WalReplay(_fs, Path, logs, _versions.LogNumber, _options.WalRecoveryMode))
        {
            while (wal.TryReadBatch(out ReadOnlySpan<byte> record))
            {
                var batch = new WriteBatchReader(record);
                ulong seq = batch.Sequence;
                while (batch.TryNext(out ValueKind kind, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
                {
                    mem.Add(seq++, kind, key, value);
                }

                if (batch.IsMalformed)
                {
                    throw new CorruptionException(wal.CurrentPath, wal.RecordOffset, "Log record is not a well-formed write batch.");
                }

                if (batch.Count > 0)
                {
                    maxSequence = Math.Max(maxSequence, seq - 1);
                }

                if (mem.ApproximateSize >= _memory.MemtableBytes)
                {
                    AddRecoveredTable(mem, recoveredFiles, recoveredValueFiles);
                    mem = new MemTable(0, _memory.MemtableBytes, _arenaChunks);
                }
            }

            // Throws before anything below changes the directory: tables written so far are not yet referenced
            // by any manifest, and the next open's sweep deletes them.
            report = wal.Finish();
        }

        _walRecovery = report;
        if (report.DamagedLog is not null)
        {
            _options.InfoLog?.Invoke(report.ToString());
        }

        AddRecoveredTable(mem, recoveredFiles, recoveredValueFiles);

        // The replayed memtables' chunks are now free in the pool: up to a memtable's worth (a log not flushed before
        // close), which stays resident until writes need it. A database that mostly reads after open would keep it
        // for good (YCSB C and E after a write workload: 50-60 MiB of idle arena). Their pages go back to the OS; the
        // chunks stay pooled and are faulted back in as the new memtables fill them, as fresh chunks would be.
        _arenaChunks.ReleaseFreeChunkMemory();
        _lastSequence = maxSequence;
        if (recoveredFiles.Count > 0)
        {
            var edit = new VersionEdit();
            foreach (FileMetaData f in recoveredFiles)
            {
                edit.AddFile(0, f);
            }

            edit.NewValueFiles.AddRange(recoveredValueFiles);
            _versions.ApplyRecoveredEdit(edit);
        }

        ulong newLog = _versions.NewFileNumber();
        _log = CreateLog(newLog, predecessor: null);
        _mem = new MemTable(newLog, _memory.MemtableBytes, _arenaChunks);

        // The new manifest makes the new (empty) log current and the replayed logs obsolete; writing CURRENT
        // fsyncs the directory, which also makes the new log's and the recovered tables' names durable.
        _versions.WriteNewManifest(newLog, maxSequence);
        lock (_mutex)
        {
            InstallSuperVersion();
        }

        DeleteObsoleteFiles(sweepDirectory: true);
    }

    /// <summary>Writes a replayed memtable out and releases it (nothing else ever referenced it): its chunks go back to the pool.</summary>
    private void AddRecoveredTable(MemTable mem, List<FileMetaData> files, List<ValueFileMeta> valueFiles)
    {
        FileMetaData? f = WriteLevel0Table(mem, valueFiles);
        mem.Unref();
        if (f is not null)
        {
            files.Add(f);
        }
    }

    // Between two steps of a gradual log deletion: long enough for the device to serve the WAL syncs queued behind
    // one step's discard (measured with 4 MiB steps: no fdatasync held longer than without a deletion).
    private static readonly TimeSpan GradualDeletePause = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Deletes tables whose last referencing version is gone (see <see cref="ObsoleteFilePurger"/>). With
    /// <paramref name="sweepDirectory"/> (only when no background work runs: at open and close) also deletes
    /// every other file no live state needs: logs below the log number, tables the manifest does not name
    /// (outputs of work a crash interrupted), other manifests, temporaries.
    /// </summary>
    private void DeleteObsoleteFiles(bool sweepDirectory)
    {
        _purger.PurgeNow();

        if (!sweepDirectory)
        {
            return;
        }

        HashSet<ulong> live;
        HashSet<ulong> liveValueFiles = [];
        Version current = _versions.AcquireCurrent();
        try
        {
            live = [];
            foreach (FileMetaData[] level in current.Files)
            {
                foreach (FileMetaData f in level)
                {
                    live.Add(f.Number);
                }
            }

            foreach (ValueFileMeta v in current.ValueFiles)
            {
                liveValueFiles.Add(v.Number);
            }
        }
        finally
        {
            current.Unref();
        }

        ulong logNumber = _versions.LogNumber;
        ulong manifestNumber = _versions.ManifestNumber;
        IReadOnlyList<string> names;
        try
        {
            names = _fs.ListFiles(Path);
        }
        catch (IOException)
        {
            return;
        }

        foreach (string name in names)
        {
            if (!FileNames.TryParse(name, out FileKind kind, out ulong number))
            {
                continue;
            }

            bool obsolete = kind switch
            {
                FileKind.Log => number < logNumber,
                FileKind.Manifest => number != manifestNumber,
                FileKind.Table => !live.Contains(number),
                FileKind.Temp => !live.Contains(number),
                FileKind.ValueFile => !liveValueFiles.Contains(number),
                _ => false,
            };
            if (obsolete)
            {
                if (kind == FileKind.Table)
                {
                    _tables.Evict((long)number);
                }
                else if (kind == FileKind.ValueFile)
                {
                    _valueFiles.Evict(number);
                }

                TryDeleteFile(System.IO.Path.Combine(Path, name));
            }
        }
    }

    /// <summary>
    /// <see cref="TryDeleteFile"/> for an obsolete log (nothing has it open), on a background thread: with
    /// <see cref="StorageOptions.LogDeleteStepBytes"/> set, its space is given back a few MiB at a time
    /// (<see cref="IFileSystem.DeleteFileGradually"/>).
    /// </summary>
    private void TryDeleteLog(string path)
    {
        if (_options.LogDeleteStepBytes == 0)
        {
            TryDeleteFile(path);
            return;
        }

        try
        {
            _fs.DeleteFileGradually(path, _options.LogDeleteStepBytes, GradualDeletePause);
        }
        catch (IOException)
        {
            // Retried by the sweep at the next open.
        }
    }

    /// <summary>The purger's deletion of one obsolete table or value file (<see cref="ObsoleteValueFileBit"/>).</summary>
    private bool DeleteObsoleteFile(ulong id)
    {
        if ((id & ObsoleteValueFileBit) == 0)
        {
            return DeleteObsoleteTable(id);
        }

        ulong number = id & ~ObsoleteValueFileBit;
        _valueFiles.Evict(number);
        string path = FileNames.ValueFile(Path, number);
        if (TryDeleteFile(path))
        {
            return true;
        }

        try
        {
            return !_fs.FileExists(path);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// The purger's deletion of one obsolete table: closes it in the table cache (now, or when its last user
    /// releases it; on Unix the space returns only once the mapping and handle are gone) and deletes the file.
    /// False when the deletion failed: the purger retries it.
    /// </summary>
    private bool DeleteObsoleteTable(ulong number)
    {
        _tables.Evict((long)number);
        string path = FileNames.Table(Path, number);
        if (TryDeleteFile(path))
        {
            return true;
        }

        bool gone;
        try
        {
            gone = !_fs.FileExists(path);
        }
        catch (IOException)
        {
            gone = false;
        }

        if (!gone)
        {
            _options.InfoLog?.Invoke($"could not delete obsolete table {path}; will retry");
        }

        return gone;
    }

    /// <summary>Deletes a file; false (the error swallowed) if that failed. Leftovers are swept at the next open.</summary>
    private bool TryDeleteFile(string path)
    {
        try
        {
            _fs.DeleteFile(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
