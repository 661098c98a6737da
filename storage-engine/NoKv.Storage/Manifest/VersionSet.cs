using NoKv.Storage.ValueLog;
using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;

namespace NoKv.Storage.Manifest;

/// <summary>
/// The current <see cref="Version"/>, the file-number counter and the persisted counters, and the manifest
/// log they are recorded in (docs/format-manifest.md).
/// </summary>
/// <remarks>
/// Every change goes through <see cref="LogAndApply"/>: the edit is appended to the manifest and fsynced
/// before the new version becomes current, so a version is never visible unless it would also be recovered.
/// At open the manifest is replayed (a torn tail is the edit being written when the process died; it was
/// never installed) and a fresh manifest holding one snapshot edit replaces it; CURRENT is switched by
/// write-temp, fsync, rename, directory fsync, so a crash leaves either the old or the new manifest current.
/// Thread safety: LogAndApply calls are serialized by an internal lock; <see cref="Current"/> can be read
/// from any thread (a reader that keeps using it must <see cref="Version.Ref"/> it).
/// </remarks>
internal sealed class VersionSet : IDisposable
{
    private const long MaxManifestBytes = 64 << 20;

    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly int _numLevels;
    private readonly Action<FileMetaData> _onFileObsolete;
    private readonly Action<ValueFileMeta>? _onValueFileObsolete;
    private readonly Lock _manifestLock = new();
    private Version _current;
    private long _nextFileNumber = 2;
    private LogWriter? _manifest;
    private Exception? _manifestError;

    public VersionSet(IFileSystem fs, string dir, int numLevels, Action<FileMetaData> onFileObsolete, Action<ValueFileMeta>? onValueFileObsolete = null)
    {
        _fs = fs;
        _dir = dir;
        _numLevels = numLevels;
        _onFileObsolete = onFileObsolete;
        _onValueFileObsolete = onValueFileObsolete;
        _current = new Version(EmptyLevels(numLevels), onFileObsolete);
    }

    /// <summary>
    /// The current version, unreferenced: only for a glance at its shape, or where nothing can make it obsolete
    /// meanwhile. Whoever keeps using it or its files takes <see cref="AcquireCurrent"/> instead.
    /// </summary>
    public Version Current => Volatile.Read(ref _current);

    /// <summary>
    /// Test hook: runs inside <see cref="AcquireCurrent"/> after the current version is read and before it is
    /// referenced, where an install on another thread may replace it (tests put one there deterministically).
    /// </summary>
    internal Action? AfterCurrentRead { get; set; }

    /// <summary>The current version with a reference taken for the caller, who must <see cref="Version.Unref"/> it.</summary>
    /// <remarks>
    /// Lock-free, so building a super version under the database mutex never waits for a manifest fsync. Between
    /// the read and the reference an install (which runs outside that mutex) may replace the version and drop the
    /// version set's reference, the only one a freshly installed version has until its super version is published;
    /// the reference then fails and the read is repeated. Install publishes the new version before releasing the
    /// old one, so the retry finds a live version.
    /// </remarks>
    public Version AcquireCurrent()
    {
        while (true)
        {
            Version v = Volatile.Read(ref _current);
            AfterCurrentRead?.Invoke();
            if (v.TryRef())
            {
                return v;
            }
        }
    }

    /// <summary>
    /// True after a manifest write failed: the manifest on disk may then hold an edit that was never installed,
    /// so what is obsolete can only be decided by the next open.
    /// </summary>
    public bool HasFailed
    {
        get
        {
            lock (_manifestLock)
            {
                return _manifestError is not null;
            }
        }
    }

    /// <summary>WALs numbered below this hold nothing that is not in a table.</summary>
    public ulong LogNumber { get; private set; }

    /// <summary>Largest sequence number recorded in the manifest (the WALs may hold later ones).</summary>
    public ulong LastSequence { get; private set; }

    public ulong ManifestNumber { get; private set; }

    public ulong NextFileNumber => (ulong)Interlocked.Read(ref _nextFileNumber);

    public ulong NewFileNumber() => (ulong)Interlocked.Increment(ref _nextFileNumber) - 1;

    /// <summary>Makes sure numbers handed out later are above <paramref name="number"/> (files found during recovery).</summary>
    public void MarkFileNumberUsed(ulong number)
    {
        long want = (long)number + 1;
        long cur;
        while ((cur = Interlocked.Read(ref _nextFileNumber)) < want)
        {
            Interlocked.CompareExchange(ref _nextFileNumber, want, cur);
        }
    }

    public bool DatabaseExists() => _fs.FileExists(Path.Combine(_dir, FileNames.Current));

    /// <summary>Replays the manifest named by CURRENT.</summary>
    /// <exception cref="CorruptionException">CURRENT or the manifest is damaged.</exception>
    public void Recover()
    {
        string currentPath = Path.Combine(_dir, FileNames.Current);
        string name;
        using (Stream s = _fs.OpenSequential(currentPath))
        using (var reader = new StreamReader(s, System.Text.Encoding.UTF8))
        {
            name = reader.ReadToEnd();
        }

        if (!name.EndsWith('\n') || !FileNames.TryParse(name.TrimEnd('\n'), out FileKind kind, out ulong manifestNumber) || kind != FileKind.Manifest)
        {
            throw new CorruptionException(currentPath, 0, "CURRENT does not name a manifest.");
        }

        string manifestPath = FileNames.Manifest(_dir, manifestNumber);
        if (!_fs.FileExists(manifestPath))
        {
            throw new CorruptionException(manifestPath, 0, "The manifest named by CURRENT is missing.");
        }

        var builder = new VersionBuilder(null, _numLevels);
        bool sawComparator = false;
        ulong? logNumber = null;
        ulong? nextFile = null;
        ulong? lastSequence = null;
        using (var reader = new LogReader(_fs.OpenSequential(manifestPath), manifestPath))
        {
            while (reader.TryReadRecord(out ReadOnlySpan<byte> record))
            {
                VersionEdit edit = VersionEdit.Decode(record, manifestPath, reader.LastRecordOffset, _numLevels);
                if (edit.Comparator is not null)
                {
                    if (edit.Comparator != VersionEdit.ComparatorName)
                    {
                        throw new CorruptionException(manifestPath, reader.LastRecordOffset, $"Manifest comparator '{edit.Comparator}' is not '{VersionEdit.ComparatorName}'.");
                    }

                    sawComparator = true;
                }

                builder.Apply(edit);
                logNumber = edit.LogNumber ?? logNumber;
                nextFile = edit.NextFileNumber ?? nextFile;
                lastSequence = edit.LastSequence ?? lastSequence;
            }

            // A torn last edit (a crash before its sync returned) was never acted upon and is dropped; damage
            // with an intact edit after it lies in synced data.
            reader.ThrowIfRecordsFollowDamage();
        }

        if (!sawComparator || logNumber is null || nextFile is null || lastSequence is null)
        {
            throw new CorruptionException(manifestPath, 0, "Manifest lacks its initial snapshot record (comparator, log number, next file, last sequence).");
        }

        ManifestNumber = manifestNumber;
        LogNumber = logNumber.Value;
        LastSequence = lastSequence.Value;
        MarkFileNumberUsed(Math.Max(nextFile.Value, 1) - 1);
        MarkFileNumberUsed(manifestNumber);
        Install(BuildVersion(builder, manifestPath, unreferenced: null));
    }

    /// <summary>Recovery only, before <see cref="WriteNewManifest"/>: applies an edit without logging it.</summary>
    public void ApplyRecoveredEdit(VersionEdit edit)
    {
        lock (_manifestLock)
        {
            var builder = new VersionBuilder(_current, _numLevels);
            builder.Apply(edit);
            Install(BuildVersion(builder, FileNames.Manifest(_dir, ManifestNumber), unreferenced: null));
        }
    }

    /// <summary>
    /// The version a builder describes, holding the value files its tables point into. Value files the state lists
    /// but no table references any more are dropped from it and, when <paramref name="unreferenced"/> is given,
    /// reported there.
    /// </summary>
    private Version BuildVersion(VersionBuilder builder, string manifestPath, List<ValueFileMeta>? unreferenced)
    {
        FileMetaData[][] levels = builder.Build();
        ValueFileMeta[] valueFiles = builder.BuildValueFiles(levels, unreferenced ?? [], manifestPath);
        return new Version(levels, _onFileObsolete, valueFiles, _onValueFileObsolete);
    }

    /// <summary>
    /// Starts a new manifest holding the full current state and points CURRENT at it.
    /// </summary>
    public void WriteNewManifest(ulong logNumber, ulong lastSequence)
    {
        lock (_manifestLock)
        {
            LogNumber = logNumber;
            LastSequence = Math.Max(LastSequence, lastSequence);
            RollManifest();
        }
    }

    /// <summary>
    /// Records <paramref name="edit"/> durably, then makes the resulting version current.
    /// Throws the I/O error if the manifest cannot be written; the version set then refuses further edits.
    /// </summary>
    public void LogAndApply(VersionEdit edit, ulong lastSequence)
    {
        lock (_manifestLock)
        {
            if (_manifestError is not null)
            {
                throw new IOException("The manifest could not be written earlier; the database must be reopened.", _manifestError);
            }

            if (edit.LogNumber is { } log)
            {
                LogNumber = Math.Max(LogNumber, log);
            }

            edit.LogNumber = LogNumber;
            LastSequence = Math.Max(LastSequence, lastSequence);
            edit.LastSequence = LastSequence;
            edit.NextFileNumber = NextFileNumber;
            var builder = new VersionBuilder(_current, _numLevels);
            builder.Apply(edit);
            var unreferenced = new List<ValueFileMeta>();
            var version = BuildVersion(builder, FileNames.Manifest(_dir, ManifestNumber), unreferenced);
            List<ValueFileMeta>? neverLive = null;
            foreach (ValueFileMeta v in unreferenced)
            {
                // A value file the last table pointing into it left with this edit; the versions still holding it
                // release it (and so delete it) as they go. One written for this very edit that no table kept
                // (never the case today) was never live: it goes at once.
                edit.ValueFileGarbage.Remove(v.Number);
                if (edit.NewValueFiles.Remove(v))
                {
                    (neverLive ??= []).Add(v);
                }
                else
                {
                    edit.DeletedValueFiles.Add(v.Number);
                }
            }

            try
            {
                LogWriter manifest = _manifest ?? throw new InvalidOperationException("No manifest is open.");
                manifest.AddRecord(edit.Encode());
                manifest.Sync();
            }
            catch (Exception e)
            {
                // The version is never installed and deliberately never released: releasing it would make the
                // edit's new files obsolete and delete them, yet a failed sync does not mean the record missed
                // the disk, and the next open may well find it. Those files stay until that open decides.
                _manifestError = e;
                throw;
            }

            Install(version);
            if (neverLive is not null && _onValueFileObsolete is not null)
            {
                foreach (ValueFileMeta v in neverLive)
                {
                    _onValueFileObsolete(v);
                }
            }

            if (_manifest.Length > MaxManifestBytes)
            {
                RollManifest();
            }
        }
    }

    public void Dispose()
    {
        lock (_manifestLock)
        {
            _manifest?.Dispose();
            _manifest = null;
        }
    }

    private void RollManifest()
    {
        ulong number = NewFileNumber();
        string path = FileNames.Manifest(_dir, number);
        var writer = new LogWriter(_fs.CreateWritable(path));
        try
        {
            var snapshot = new VersionEdit
            {
                Comparator = VersionEdit.ComparatorName,
                LogNumber = LogNumber,
                LastSequence = LastSequence,
                NextFileNumber = NextFileNumber,
            };
            Version current = _current;
            for (int level = 0; level < current.NumLevels; level++)
            {
                foreach (FileMetaData f in current.Files[level])
                {
                    snapshot.AddFile(level, f);
                }
            }

            snapshot.NewValueFiles.AddRange(current.ValueFiles);

            writer.AddRecord(snapshot.Encode());
            writer.Sync();
            SetCurrentFile(number);
        }
        catch (Exception e)
        {
            writer.Dispose();
            _manifestError = e;
            throw;
        }

        ulong old = ManifestNumber;
        _manifest?.Dispose();
        _manifest = writer;
        ManifestNumber = number;
        if (old != 0 && old != number)
        {
            TryDelete(FileNames.Manifest(_dir, old));
        }
    }

    private void SetCurrentFile(ulong manifestNumber)
    {
        ulong tempNumber = NewFileNumber();
        string temp = FileNames.Temp(_dir, tempNumber);
        using (IWritableFile f = _fs.CreateWritable(temp))
        {
            f.Append(System.Text.Encoding.UTF8.GetBytes(FileNames.ManifestName(manifestNumber) + "\n"));
            f.Sync();
        }

        _fs.RenameFile(temp, Path.Combine(_dir, FileNames.Current));
        _fs.SyncDirectory(_dir);
    }

    private void Install(Version version)
    {
        Version old = Interlocked.Exchange(ref _current, version);
        old.Unref();
    }

    private void TryDelete(string path)
    {
        try
        {
            _fs.DeleteFile(path);
        }
        catch (IOException)
        {
            // Left for the obsolete-file sweep at the next open.
        }
    }

    private static FileMetaData[][] EmptyLevels(int n)
    {
        var levels = new FileMetaData[n][];
        for (int i = 0; i < n; i++)
        {
            levels[i] = [];
        }

        return levels;
    }
}
