using System.Globalization;
using NoKv.Storage.Cache;
using NoKv.Storage.Db;
using NoKv.Storage.Iterators;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.Sstable;
using NoKv.Storage.ValueLog;
using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;

namespace NoKv.Storage.Inspection;

/// <summary>
/// Read-only access to a database directory that no process has open: its manifest (levels, tables, sizes), its
/// files, a view of its keys, and a full verification of every checksum. For offline forensics (`nokv store inspect`,
/// `nokv store verify`).
/// </summary>
/// <remarks>
/// Nothing here writes to the directory, unlike <see cref="Database.Open"/>, which replays the logs into new tables,
/// starts a new manifest and deletes obsolete files: the inspector replays the manifest and the logs into memory only,
/// so what it shows is what the next open would recover, and inspecting leaves the evidence as it was. It takes the
/// directory's LOCK (the same advisory lock a running engine holds) for its lifetime, so it refuses a database that a
/// silo has open and a silo cannot open the database while it is being inspected. The one write it may cause is
/// creating an empty LOCK file if the directory has none (an engine always has one).
/// Not thread-safe.
/// </remarks>
public sealed class DatabaseInspector : IDisposable
{
    // Memtables built from the logs for NewIterator; never flushed, so no size bound matters beyond memory.
    private const long ReplayMemtableBytes = 64 << 20;

    private readonly IFileSystem _fs;
    private readonly IDisposable _lock;
    private readonly VersionSet _versions;
    private readonly TableCache _tables;
    private readonly ValueFileCache _valueFiles;
    private List<MemTable>? _replayed;
    private ulong _replayedSequence;
    private bool _disposed;

    private DatabaseInspector(string path, IFileSystem fs, IDisposable dirLock, VersionSet versions)
    {
        Path = path;
        _fs = fs;
        _lock = dirLock;
        _versions = versions;
        var tableOptions = new TableOptions { Comparer = InternalKeyComparer.Instance, VerifyChecksums = true, UseMappedReads = false };
        _tables = new TableCache(fs, number => FileNames.Table(path, (ulong)number), tableOptions, blockCache: null, capacity: 64);
        _valueFiles = new ValueFileCache(fs, path);
    }

    /// <summary>The database directory (a full path for the physical file system).</summary>
    public string Path { get; }

    /// <summary>Number of the manifest CURRENT names (the file is MANIFEST-NNNNNN).</summary>
    public ulong ManifestNumber => _versions.ManifestNumber;

    /// <summary>Logs numbered below this were flushed to tables; logs at or above it are replayed at open.</summary>
    public ulong LogNumber => _versions.LogNumber;

    /// <summary>Largest sequence number the manifest records (the logs may hold later ones).</summary>
    public ulong ManifestLastSequence => _versions.LastSequence;

    /// <summary>The next file number the engine will hand out.</summary>
    public ulong NextFileNumber => _versions.NextFileNumber;

    /// <summary>Number of levels the manifest was read with.</summary>
    public int NumLevels => _versions.Current.NumLevels;

    /// <summary>
    /// Opens <paramref name="path"/> for inspection.
    /// </summary>
    /// <param name="numLevels">Levels the engine was configured with (<see cref="StorageOptions.NumLevels"/>).</param>
    /// <exception cref="NotADatabaseException">The directory does not exist or holds no CURRENT file.</exception>
    /// <exception cref="StorageLockedException">A running engine (or another inspector) holds the directory.</exception>
    /// <exception cref="CorruptionException">CURRENT or the manifest is damaged (nothing else can be read then).</exception>
    public static DatabaseInspector Open(string path, IFileSystem? fileSystem = null, int numLevels = 7)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IFileSystem fs = fileSystem ?? PhysicalFileSystem.Instance;
        if (fs is PhysicalFileSystem)
        {
            path = System.IO.Path.GetFullPath(path);
        }

        if (!fs.DirectoryExists(path))
        {
            throw new NotADatabaseException(path, $"'{path}' does not exist.");
        }

        if (!fs.FileExists(System.IO.Path.Combine(path, FileNames.Current)))
        {
            throw new NotADatabaseException(path, $"'{path}' is not a NoKV engine directory (it has no {FileNames.Current} file).");
        }

        IDisposable dirLock = fs.LockFile(System.IO.Path.Combine(path, FileNames.Lock));
        var versions = new VersionSet(fs, path, numLevels, static _ => { });
        try
        {
            versions.Recover();
        }
        catch
        {
            versions.Dispose();
            dirLock.Dispose();
            throw;
        }

        return new DatabaseInspector(path, fs, dirLock, versions);
    }

    /// <summary>The live tables, level by level (level 0 newest first, deeper levels in key order).</summary>
    public IReadOnlyList<IReadOnlyList<TableFileInfo>> Levels()
    {
        ThrowIfDisposed();
        Version v = _versions.Current;
        var levels = new List<IReadOnlyList<TableFileInfo>>(v.NumLevels);
        for (int level = 0; level < v.NumLevels; level++)
        {
            var files = new List<TableFileInfo>(v.Files[level].Length);
            foreach (FileMetaData f in v.Files[level])
            {
                files.Add(new TableFileInfo(
                    level,
                    f.Number,
                    f.Size,
                    f.SmallestUserKey.ToArray(),
                    f.LargestUserKey.ToArray(),
                    f.SmallestSequence,
                    f.LargestSequence,
                    f.EntryCount,
                    f.RangeTombstones.Length));
            }

            levels.Add(files);
        }

        return levels;
    }

    /// <summary>Every other file in the directory (logs, the manifest, leftovers), by name.</summary>
    public IReadOnlyList<DatabaseFileInfo> OtherFiles()
    {
        ThrowIfDisposed();
        var live = LiveTableNumbers();
        var result = new List<DatabaseFileInfo>();
        var names = _fs.ListFiles(Path).ToList();
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string role;
            if (FileNames.TryParse(name, out FileKind kind, out ulong number))
            {
                role = kind switch
                {
                    FileKind.Log => number >= LogNumber ? "log" : "obsolete",
                    FileKind.Manifest => number == ManifestNumber ? "manifest" : "obsolete",
                    FileKind.Table => live.Contains(number) ? string.Empty : "obsolete",
                    FileKind.ValueFile => IsLiveValueFile(number) ? "value" : "obsolete",
                    FileKind.Current => "current",
                    FileKind.Lock => "lock",
                    _ => "obsolete",
                };
            }
            else
            {
                role = "other";
            }

            if (role.Length > 0)
            {
                result.Add(new DatabaseFileInfo(name, _fs.GetFileLength(System.IO.Path.Combine(Path, name)), role));
            }
        }

        return result;
    }

    /// <summary>
    /// An iterator over every key the next open would recover: the live tables plus the logs replayed into memory
    /// (by the open's own rule: up to the first damage, which is dropped when it is an unsynced tail).
    /// </summary>
    /// <exception cref="CorruptionException">A log is damaged where a sync proves it complete, or a block read fails verification.</exception>
    public StorageIterator NewIterator()
    {
        ThrowIfDisposed();
        List<MemTable> replayed = ReplayLogs();
        MemTable mem = replayed[^1];
        var immutables = new MemTable[replayed.Count - 1];
        for (int i = 0; i < immutables.Length; i++)
        {
            immutables[i] = replayed[replayed.Count - 2 - i];
        }

        var sv = new SuperVersion(mem, immutables, _versions.AcquireCurrent());
        try
        {
            var children = new List<IInternalIterator> { mem.NewIterator() };
            foreach (MemTable m in immutables)
            {
                children.Add(m.NewIterator());
            }

            Version v = sv.Version;
            foreach (FileMetaData f in v.Files[0])
            {
                if (f.EntryCount > 0)
                {
                    children.Add(new TableFileIterator(_tables, f, fillCache: false));
                }
            }

            for (int level = 1; level < v.NumLevels; level++)
            {
                if (v.Files[level].Length > 0)
                {
                    children.Add(new LevelIterator(_tables, v.Files[level], fillCache: false));
                }
            }

            ulong snapshot = Math.Max(_replayedSequence, _versions.LastSequence);
            return new DbIterator(new MergingIterator([.. children]), sv, snapshot, null, null, valueFiles: _valueFiles);
        }
        catch
        {
            sv.Unref();
            throw;
        }
    }

    /// <summary>
    /// Reads every byte the database's state depends on and checks it: each live table's footer, meta blocks and
    /// every data block (checksum, block structure, keys in order, entry count and size against the manifest), and
    /// every log the next open replays (each record's checksum, each batch's encoding, the durability marks).
    /// Damage is reported, never thrown; the pass continues with the next file.
    /// </summary>
    public VerificationReport Verify()
    {
        ThrowIfDisposed();
        var problems = new List<VerificationProblem>();
        var notes = new List<string>();
        int tables = 0;
        long blocks = 0, bytes = 0, entries = 0;
        Version v = _versions.Current;
        for (int level = 0; level < v.NumLevels; level++)
        {
            foreach (FileMetaData f in v.Files[level])
            {
                tables++;
                VerifyTable(f, problems, ref blocks, ref bytes, ref entries);
            }
        }

        foreach (DatabaseFileInfo file in OtherFiles())
        {
            if (file.Role == "obsolete")
            {
                notes.Add($"{file.Name}: not part of the live state ({file.SizeBytes} bytes); the next open deletes it");
            }
        }

        int valueFiles = 0;
        long values = 0;
        foreach (ValueFileMeta f in v.ValueFiles)
        {
            string path = FileNames.ValueFile(Path, f.Number);
            valueFiles++;
            values += ValueFileVerifier.Verify(_fs, path, f, out var problem);
            if (problem is { } p)
            {
                problems.Add(new VerificationProblem(path, p.Offset, p.Message));
            }
        }

        (int logs, long records) = VerifyLogs(problems, notes);
        return new VerificationReport
        {
            ValueFilesChecked = valueFiles,
            ValuesChecked = values,
            TablesChecked = tables,
            BlocksChecked = blocks,
            TableBytesChecked = bytes,
            EntriesChecked = entries,
            LogsChecked = logs,
            LogRecordsChecked = records,
            Problems = problems,
            Notes = notes,
        };
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _tables.Dispose();
        _valueFiles.Dispose();
        _versions.Dispose();
        _lock.Dispose();
    }

    private bool IsLiveValueFile(ulong number)
    {
        foreach (ValueFileMeta f in _versions.Current.ValueFiles)
        {
            if (f.Number == number)
            {
                return true;
            }
        }

        return false;
    }

    private void VerifyTable(FileMetaData f, List<VerificationProblem> problems, ref long blocks, ref long bytes, ref long entries)
    {
        string path = FileNames.Table(Path, f.Number);
        if (!_fs.FileExists(path))
        {
            problems.Add(new VerificationProblem(path, 0, "live table is missing"));
            return;
        }

        long length = _fs.GetFileLength(path);
        if (length != f.Size)
        {
            problems.Add(new VerificationProblem(path, 0, $"table is {length} bytes but the manifest records {f.Size}"));
        }

        var options = new TableOptions { Comparer = InternalKeyComparer.Instance, VerifyChecksums = true, UseMappedReads = false };
        long offset = 0;
        try
        {
            using TableReader reader = TableReader.Open(_fs.OpenRandomAccess(path), (long)f.Number, options, cache: null);

            // Open verified the index, the properties block and the filter block when there is one.
            blocks += reader.HasFilter ? 3 : 2;
            long count = 0;
            var index = new BlockIterator(reader.IndexBlock, reader.Comparer);
            var data = new BlockIterator();
            byte[] previous = [];
            bool first = true;
            for (index.SeekToFirst(); index.Valid; index.Next())
            {
                // Opened without a block cache: every block is a fresh array, with no lease to release.
                Block block = reader.ReadDataBlock(index.Value, fillCache: false, out _);
                offset = block.FileOffset;
                blocks++;
                bytes += block.Size + TableFormat.BlockTrailerSize;
                data.Reset(block, reader.Comparer);
                for (data.SeekToFirst(); data.Valid; data.Next())
                {
                    ReadOnlySpan<byte> key = data.Key;
                    if (!first && reader.Comparer.Compare(previous, key) >= 0)
                    {
                        throw new CorruptionException(path, offset, "keys out of order");
                    }

                    if (reader.Comparer.Compare(key, index.Key) > 0)
                    {
                        throw new CorruptionException(path, offset, "block holds a key after its index entry");
                    }

                    previous = key.ToArray();
                    first = false;
                    count++;
                }
            }

            entries += count;
            if (count != f.EntryCount)
            {
                problems.Add(new VerificationProblem(path, 0, $"table holds {count} entries but the manifest records {f.EntryCount}"));
            }
        }
        catch (CorruptionException e)
        {
            problems.Add(new VerificationProblem(path, e.Offset, Reason(e)));
        }
        catch (IOException e)
        {
            problems.Add(new VerificationProblem(path, offset, e.Message));
        }
    }

    private (int Logs, long Records) VerifyLogs(List<VerificationProblem> problems, List<string> notes)
    {
        List<ulong> logs = LiveLogs();
        long records = 0;
        try
        {
            using var wal = new WalReplay(_fs, Path, logs, LogNumber, WalRecoveryMode.PointInTime);
            while (wal.TryReadBatch(out ReadOnlySpan<byte> record))
            {
                records++;
                var batch = new WriteBatchReader(record);
                while (batch.TryNext(out _, out _, out _))
                {
                }

                if (batch.IsMalformed)
                {
                    problems.Add(new VerificationProblem(wal.CurrentPath, wal.RecordOffset, "log record is not a well-formed write batch"));
                }
            }

            WalRecoveryReport report = wal.Finish();
            if (report.DamagedLog is not null)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"{System.IO.Path.GetFileName(report.DamagedLog)}: {report.DroppedBytes} byte(s) from offset {report.DamageOffset} do not form whole records ({report.DamageReason}); no sync covered them, so the next open drops them as a torn tail"));
            }
        }
        catch (CorruptionException e)
        {
            problems.Add(new VerificationProblem(e.Path, e.Offset, Reason(e)));
        }
        catch (IOException e)
        {
            problems.Add(new VerificationProblem(Path, 0, e.Message));
        }

        return (logs.Count, records);
    }

    private List<MemTable> ReplayLogs()
    {
        if (_replayed is not null)
        {
            return _replayed;
        }

        var memtables = new List<MemTable> { new(0, ReplayMemtableBytes) };
        ulong maxSequence = _versions.LastSequence;
        using (var wal = new WalReplay(_fs, Path, LiveLogs(), LogNumber, WalRecoveryMode.PointInTime))
        {
            while (wal.TryReadBatch(out ReadOnlySpan<byte> record))
            {
                var batch = new WriteBatchReader(record);
                ulong seq = batch.Sequence;
                while (batch.TryNext(out ValueKind kind, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
                {
                    memtables[^1].Add(seq++, kind, key, value);
                }

                if (batch.IsMalformed)
                {
                    throw new CorruptionException(wal.CurrentPath, wal.RecordOffset, "Log record is not a well-formed write batch.");
                }

                if (batch.Count > 0)
                {
                    maxSequence = Math.Max(maxSequence, seq - 1);
                }

                if (memtables[^1].ApproximateSize >= ReplayMemtableBytes)
                {
                    memtables.Add(new MemTable(0, ReplayMemtableBytes));
                }
            }

            wal.Finish();
        }

        _replayedSequence = maxSequence;
        _replayed = memtables;
        return memtables;
    }

    private List<ulong> LiveLogs()
    {
        var logs = new List<ulong>();
        foreach (string name in _fs.ListFiles(Path))
        {
            if (FileNames.TryParse(name, out FileKind kind, out ulong number) && kind == FileKind.Log && number >= LogNumber)
            {
                logs.Add(number);
            }
        }

        logs.Sort();
        return logs;
    }

    private HashSet<ulong> LiveTableNumbers()
    {
        var live = new HashSet<ulong>();
        foreach (FileMetaData[] level in _versions.Current.Files)
        {
            foreach (FileMetaData f in level)
            {
                live.Add(f.Number);
            }
        }

        return live;
    }

    /// <summary>The exception's message without the "Corruption in 'path' at offset N: " its problem already carries.</summary>
    private static string Reason(CorruptionException e)
    {
        string prefix = $"Corruption in '{e.Path}' at offset {e.Offset.ToString(CultureInfo.InvariantCulture)}: ";
        return e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
