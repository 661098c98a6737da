using NoKv.Storage.Cache;
using NoKv.Storage.Compaction;
using NoKv.Storage.Db;
using NoKv.Storage.Iterators;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.Sstable;
using NoKv.Storage.ValueLog;
using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;

namespace NoKv.Storage;

/// <summary>
/// An LSM key-value store in one directory. All methods are thread-safe. Keys are ordered bytewise.
/// </summary>
/// <remarks>
/// Threads: writers commit in groups (one WAL append and at most one fsync per group, see Database.Write.cs);
/// a flush thread turns frozen memtables into level-0 tables; a compaction thread merges tables down the
/// levels; a writer thread leads groups for <see cref="WriteAsync"/> callers so they never block on fsync.
/// Reads take a reference to the current <see cref="SuperVersion"/> and never wait for any of them.
/// Locking: <c>_mutex</c> guards the memtable list, the super version, background-work flags and errors
/// (and is the monitor stalled writers and Flush wait on); the group-commit queue has its own lock; the
/// manifest has its own (inside <see cref="VersionSet"/>). Lock order: _mutex may be taken while holding
/// nothing else; the queue lock is never held while taking _mutex.
/// </remarks>
public sealed partial class Database : IDisposable, IAsyncDisposable
{
    private readonly StorageOptions _options;
    private readonly IFileSystem _fs;
    private readonly IDisposable _dirLock;
    private readonly VersionSet _versions;
    private readonly BlockCache? _blockCache;
    private readonly TableOptions _tableOptions;

    // Memtable size and cache bounds after StorageOptions.MemoryBudgetBytes (when set) has been applied.
    private readonly MemoryBudget _memory;

    // What a table written to level i is built with (only the codec differs from _tableOptions); reads use
    // _tableOptions, since every reader decodes every codec.
    private readonly TableOptions[] _writeOptionsByLevel;
    private readonly TableCache _tables;
    private readonly IteratorPartsPool _iteratorParts;

    // Read handles of value files (the value log; off unless StorageOptions.ValueLogMinValueBytes is set, but
    // always able to read what an earlier open separated).
    private readonly ValueFileCache _valueFiles;
    private readonly TablePins _pins;
    private readonly ObsoleteFilePurger _purger;
    private readonly SnapshotList _snapshots = new();

    // Arena chunks of flushed memtables, for the memtables that follow (see ArenaChunkPool for why).
    private readonly ArenaChunkPool _arenaChunks;
    private readonly object _mutex = new();
    private readonly DbCounters _counters;
    private readonly ReadCompactionTracker _readCompactions;
    private readonly Thread _flushThread;
    private readonly WriteRateLimiter? _backgroundWriteLimiter;
    private readonly Thread _compactionThread;
    private readonly Thread _writerThread;

    // Guarded by _mutex.
    private MemTable _mem = null!;
    private MemTable[] _immutables = [];
    private SuperVersion _super = null!;

    // Per-thread references to _super for point reads (invalidated by every InstallSuperVersion).
    private readonly SuperVersionCache _superCache = new();
    private Exception? _backgroundError;
    private readonly TaskCompletionSource<Exception> _writesStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closing;
    private bool _compactionRequested;
    private int _disposed;

    // Owned by the group-commit leader.
    private LogWriter _log = null!;

    private ulong _lastSequence;

    private Database(string path, StorageOptions options, IDisposable dirLock)
    {
        Path = path;
        _options = options;
        _fs = options.FileSystem;
        _dirLock = dirLock;
        _memory = MemoryBudget.From(options);
        int chunkSize = MemTable.ArenaChunkSize(_memory.MemtableBytes);
        // A memtable's arena runs past its size limit: node links and key trailers are not counted in the limit
        // (about 3% with 1 KB values, 20-25% with 100-byte ones), and the last chunk is partly used.
        long chunksPerMemtable = ((_memory.MemtableBytes * 5 / 4) + chunkSize - 1) / chunkSize + 1;
        _arenaChunks = new ArenaChunkPool(chunkSize, (int)Math.Min(int.MaxValue, chunksPerMemtable * (1 + options.MaxImmutableMemtables)));
        _blockCache = _memory.BlockCacheBytes > 0 ? new BlockCache(_memory.BlockCacheBytes) : null;
        _tableOptions = new TableOptions
        {
            Comparer = InternalKeyComparer.Instance,
            BlockSizeBytes = options.BlockSizeBytes,
            BlockRestartInterval = options.BlockRestartInterval,
            BloomBitsPerKey = options.BloomBitsPerKey,
            VerifyChecksums = options.VerifyChecksums,
            UseMappedReads = options.UseMappedReads,
        };
        _writeOptionsByLevel = new TableOptions[options.NumLevels];
        for (int level = 0; level < options.NumLevels; level++)
        {
            var codec = options.CompressionPerLevel is { Count: > 0 } codecs ? codecs[Math.Min(level, codecs.Count - 1)] : CompressionType.None;
            _writeOptionsByLevel[level] = codec == CompressionType.None
                ? _tableOptions
                : new TableOptions
                {
                    Comparer = _tableOptions.Comparer,
                    BlockSizeBytes = _tableOptions.BlockSizeBytes,
                    BlockRestartInterval = _tableOptions.BlockRestartInterval,
                    BloomBitsPerKey = _tableOptions.BloomBitsPerKey,
                    VerifyChecksums = _tableOptions.VerifyChecksums,
                    UseMappedReads = _tableOptions.UseMappedReads,
                    Compression = codec,
                    ZstdLevel = options.ZstdLevel,
                };
        }

        _tables = new TableCache(_fs, number => FileNames.Table(path, (ulong)number), _tableOptions, _blockCache, options.MaxOpenTables, _memory.TableCacheBytes);
        _pins = new TablePins(_tables, Math.Max(1, options.MaxOpenTables / 2), _memory.PinnedTableBytes);
        _iteratorParts = new IteratorPartsPool(_tables, Math.Max(4, 2 * Environment.ProcessorCount));
        _valueFiles = new ValueFileCache(_fs, path);
        _purger = new ObsoleteFilePurger(DeleteObsoleteFile, options.BackgroundThreadNice);
        _versions = new VersionSet(_fs, path, options.NumLevels, OnFileObsolete, OnValueFileObsolete);
        _counters = new DbCounters(options.MetricsName ?? path);
        _backgroundWriteLimiter = options.BackgroundWriteBytesPerSecond > 0 ? new WriteRateLimiter(options.BackgroundWriteBytesPerSecond, BackgroundWorkBehind) : null;
        _readCompactions = new ReadCompactionTracker(options, MaybeScheduleCompaction);
        _flushThread = new Thread(FlushLoop) { IsBackground = true, Name = "nokv-flush" };
        _compactionThread = new Thread(CompactionLoop) { IsBackground = true, Name = "nokv-compaction" };
        _writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "nokv-writer" };
    }

    /// <summary>The database directory.</summary>
    public string Path { get; }

    /// <summary>
    /// Completes with the first error when this instance stops accepting writes: a log write or sync, a flush or a
    /// compaction failed (a full disk, an I/O error). The stop is sticky, because what the failed write left in the log
    /// and memtable is unknown; only a reopen, once the cause is gone, writes again (recovery replays what the log
    /// holds). Never completes for a healthy database. A host can act on it: the silo exits so that its supervisor
    /// restarts it, instead of serving on as a replica that can persist nothing.
    /// </summary>
    public Task<Exception> WritesStopped => _writesStopped.Task;

    /// <summary>
    /// Latency of the write path's log syncs (group commits that asked for durability, and the closed logs such a group
    /// syncs first): what a synced write waits for. A host reads it to tell a slow disk (docs/replica.md, "Slow disks").
    /// </summary>
    public SyncLatency WalSyncLatency { get; } = new();

    internal ulong LastSequence => Volatile.Read(ref _lastSequence);

    /// <summary>The version set, for tests that drive version installs directly.</summary>
    internal VersionSet Versions => _versions;

    /// <summary>The memtables' arena chunk pool (tests).</summary>
    internal ArenaChunkPool ArenaChunks => _arenaChunks;

    /// <summary>Deletes the tables queued as obsolete on the calling thread (tests: makes a premature deletion show at once).</summary>
    internal void PurgeObsoleteTablesNow() => _purger.PurgeNow();

    /// <summary>Opens (or creates) the database in <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options or path.</exception>
    /// <exception cref="StorageLockedException">Another process or open database holds the directory.</exception>
    /// <exception cref="CorruptionException">The manifest or a log is corrupt.</exception>
    public static Database Open(string path, StorageOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new StorageOptions();
        options.Validate();
        IFileSystem fs = options.FileSystem;
        if (fs is PhysicalFileSystem)
        {
            path = System.IO.Path.GetFullPath(path);
        }

        if (!fs.DirectoryExists(path))
        {
            if (!options.CreateIfMissing)
            {
                throw new DirectoryNotFoundException($"Database directory '{path}' does not exist and CreateIfMissing is false.");
            }

            fs.CreateDirectory(path);
        }

        IDisposable dirLock = fs.LockFile(System.IO.Path.Combine(path, FileNames.Lock));
        Database? db = null;
        try
        {
            db = new Database(path, options, dirLock);
            db.Recover();
            db._flushThread.Start();
            db._compactionThread.Start();
            db._writerThread.Start();
            db._purger.Start();
            db.MaybeScheduleCompaction();
            db._counters.Start(db, db._readCompactions);
            return db;
        }
        catch
        {
            if (db is not null)
            {
                db.CloseResources();
            }
            else
            {
                dirLock.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Waits for queued writes and pending flushes, stops background work, syncs the log and releases the
    /// directory. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        DrainWriters();
        if (WriteTrace.Enabled)
        {
            WriteTrace.Print();
        }

        lock (_mutex)
        {
            _closing = true;
            Monitor.PulseAll(_mutex);
        }

        _writerSignal.Set();
        _writerThread.Join();
        _flushThread.Join();
        _compactionThread.Join();
        _purger.Dispose();
        try
        {
            if (_backgroundError is null)
            {
                // Closed logs first (their marks go into the current log), then sync, then a synced mark of the
                // whole log: damage found in them at the next open is then reported as corruption instead of
                // being taken for a power-loss tail.
                SyncClosedLogs();
                if (_marksPending)
                {
                    AppendPendingMarks();
                }

                _log.Seal();
            }
        }
        catch (IOException)
        {
            // The log is as durable as it was; nothing acknowledged as synced depends on this.
        }

        // After a failed manifest write the manifest on disk may name tables the current version does not (an
        // edit whose sync failed may still have reached the disk): the sweep waits for the next open to decide.
        DeleteObsoleteFiles(sweepDirectory: _backgroundError is null && !_versions.HasFailed);
        CloseResources();
    }

    public ValueTask DisposeAsync()
    {
        return new ValueTask(Task.Factory.StartNew(Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
    }

    private void CloseResources()
    {
        _purger.Dispose();
        DisposeClosedLogs();
        _log?.Dispose();
        _superCache.Dispose();
        _iteratorParts.Close();
        _super?.Unref();
        _versions.Dispose();
        _pins.Dispose();
        _tables.Dispose();
        _valueFiles.Dispose();
        _counters.Dispose();
        _writerSignal.Dispose();
        _dirLock.Dispose();
    }

    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
    }

    /// <summary>REQUIRES: _mutex held. Publishes a new super version from the current parts.</summary>
    private void InstallSuperVersion()
    {
        var sv = new SuperVersion(_mem, _immutables, _versions.AcquireCurrent());
        SuperVersion? old = _super;
        Volatile.Write(ref _super, sv);
        _superCache.Invalidate();
        old?.Unref();
    }

    /// <summary>A referenced super version; the caller must Unref it.</summary>
    private SuperVersion AcquireSuperVersion()
    {
        while (true)
        {
            SuperVersion sv = Volatile.Read(ref _super);
            if (sv.TryRef())
            {
                return sv;
            }

            // Only a closed database retires its super version without installing another.
            ThrowIfDisposed();
        }
    }

    /// <summary>
    /// A file's last version is gone, on whichever thread released it (a reader, an iterator's Dispose, a
    /// background thread installing a new version, possibly under _mutex): drop its pin and hand it to the
    /// purger, which deletes it without making this thread wait.
    /// </summary>
    private void OnFileObsolete(FileMetaData file)
    {
        _pins.Unpin(file);
        _purger.Enqueue(file.Number);
    }

    /// <summary>A value file's last version is gone: the purger deletes it (see <see cref="OnFileObsolete"/>).</summary>
    private void OnValueFileObsolete(ValueFileMeta file) => _purger.Enqueue(file.Number | ObsoleteValueFileBit);

    /// <summary>Marks a purger entry as a value file (file numbers never reach bit 63).</summary>
    private const ulong ObsoleteValueFileBit = 1UL << 63;

    private void SetBackgroundError(Exception e)
    {
        Exception first;
        lock (_mutex)
        {
            first = _backgroundError ??= e;
            Monitor.PulseAll(_mutex);
        }

        _writesStopped.TrySetResult(first);
    }
}
