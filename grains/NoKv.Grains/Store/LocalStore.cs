using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Sharding;
using NoKv.Storage;
using Orleans.Runtime;

namespace NoKv.Grains.Store;

/// <summary>
/// The silo's one storage engine. Opened early in silo start-up (before any grain can activate) and
/// closed in the same lifecycle stage on shutdown, which Orleans runs after grains are deactivated, so no
/// replica ever sees a closed engine. Every replica, the grain storage provider and the Raft log store of
/// this silo share it; its group-commit writer is what lets many Raft groups share one fsync.
/// Data directory layout: <c>STORE</c> (the store id, text), <c>engine/</c> (the engine's files).
/// </summary>
public sealed partial class LocalStore : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private const string StoreFileName = "STORE";
    private readonly NoKvStoreOptions _options;
    private readonly ILogger<LocalStore> _logger;
    private readonly TaskCompletionSource<Exception> _writesStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Database? _database;
    private SlowDiskControl? _slowDisk;
    private CancellationTokenSource? _slowDiskStop;
    private CancellationTokenSource? _diskWatchStop;
    private volatile bool _diskSlow;

    public LocalStore(IOptions<NoKvStoreOptions> options, ILogger<LocalStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        Id = new StoreId(_options.StoreId);
    }

    public StoreId Id { get; }

    /// <summary>The engine. Valid between silo start (stage RuntimeInitialize) and shutdown.</summary>
    /// <summary>
    /// Where this store's replicas stage Raft snapshots in files (docs/replica.md, "Snapshots in files"):
    /// <c>snapshot-staging</c> in the data directory, emptied when the store opens (files left by a crash), before any
    /// replica opens. Null until the store is open.
    /// </summary>
    public string? SnapshotStagingDirectory { get; private set; }

    public Database Database => _database ?? throw new InvalidOperationException("The NoKV store is not open: the silo has not started or is shutting down.");

    public bool IsOpen => _database is not null;

    /// <summary>
    /// Completes with the engine's error when it stops accepting writes (<see cref="Database.WritesStopped"/>: a full
    /// disk, an I/O error). From then on every replica of this store fails at its next write and reopens, only to fail
    /// again: the store can persist nothing, so it cannot vote, append or apply, and it only looks alive. The silo host
    /// exits on it (crash-only, exit code 6) so that its supervisor restarts it, and start-up succeeds again once the disk
    /// is usable; recovery replays the log. Never completes otherwise.
    /// </summary>
    public Task<Exception> WritesStopped => _writesStopped.Task;

    /// <summary>
    /// Whether this store's disk is slow now: its log syncs have been taking <see cref="NoKvStoreOptions.SlowSyncThreshold"/>
    /// or more (<see cref="SlowDiskDetector"/>, polled every <see cref="DiskPollInterval"/>). Its replicas shed leadership
    /// while it is, and it tells its peers in every Raft envelope so they do not hand leadership to it. Thread-safe.
    /// </summary>
    public bool IsDiskSlow => _diskSlow;

    /// <summary>How often the engine's sync latency is looked at.</summary>
    public static readonly TimeSpan DiskPollInterval = TimeSpan.FromMilliseconds(100);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LocalStore), ServiceLifecycleStage.RuntimeInitialize, OpenAsync, CloseAsync);

    /// <summary>Opens the engine; exposed for hosts that run the store outside a silo lifecycle (tools, tests).</summary>
    public Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_database is not null)
        {
            return Task.CompletedTask;
        }

        string root = Path.GetFullPath(_options.DataDirectory);
        try
        {
            Directory.CreateDirectory(root);
            CheckStoreIdentity(root);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StoreStartupException($"NoKV store {Id}: no write permission on data directory '{root}'.", e);
        }
        catch (IOException e) when (e is not StorageLockedException)
        {
            throw new StoreStartupException($"NoKV store {Id}: cannot use data directory '{root}': {e.Message}", e);
        }

        string staging = Path.Combine(root, "snapshot-staging");
        try
        {
            global::NoKv.Replica.Snapshots.SnapshotStaging.Clean(staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreStartupException($"NoKV store {Id}: cannot use snapshot staging directory '{staging}': {e.Message}", e);
        }

        SnapshotStagingDirectory = staging;
        string enginePath = Path.Combine(root, "engine");
        if (!string.IsNullOrWhiteSpace(_options.SlowDiskControlFile))
        {
            _slowDisk = new SlowDiskControl(_options.SlowDiskControlFile, Storage.Vfs.PhysicalFileSystem.Instance);
            _slowDisk.Poll(out _);
            LogSlowDiskSwitch(Id, _slowDisk.ControlFile, (long)_slowDisk.Delay.TotalMilliseconds);
        }

        try
        {
            _database = Database.Open(enginePath, new StorageOptions
            {
                FileSystem = _slowDisk?.FileSystem ?? Storage.Vfs.PhysicalFileSystem.Instance,
                MemtableSizeBytes = _options.MemtableSizeBytes,
                BlockCacheBytes = _options.BlockCacheBytes,
                MemoryBudgetBytes = _options.MemoryBudgetBytes,
                MetricsName = $"store-{Id}",
                BackgroundThreadNice = _options.BackgroundThreadNice,
                TableBytesPerSync = _options.TableBytesPerSync,
                BackgroundWriteBytesPerSecond = _options.BackgroundWriteBytesPerSecond,
                LogDeleteStepBytes = _options.LogDeleteStepBytes,
                CompressionPerLevel = NoKvStoreOptions.TryParseCompression(_options.Compression, out var codecs) ? codecs : null,
                InfoLog = line => LogEngine(Id, line),
            });
        }
        catch (StorageLockedException e)
        {
            throw new StoreStartupException($"NoKV store {Id}: the engine at '{enginePath}' is in use by another process.", e);
        }

        LogOpened(Id, enginePath);
        _ = WatchWritesAsync(_database);
        if (_options.SlowSyncThreshold > TimeSpan.Zero)
        {
            _diskWatchStop = new CancellationTokenSource();
            var detector = new SlowDiskDetector(_options.SlowSyncThreshold, _options.SlowSyncCount, _options.SlowDiskWindow, _options.SlowDiskRecovery);
            _ = WatchDiskLatencyAsync(_database, detector, _diskWatchStop.Token);
        }

        if (_slowDisk is not null)
        {
            _slowDiskStop = new CancellationTokenSource();
            _ = WatchSlowDiskAsync(_slowDisk, _slowDiskStop.Token);
        }

        return Task.CompletedTask;
    }

    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _diskWatchStop, null) is { } diskWatchStop)
        {
            await diskWatchStop.CancelAsync().ConfigureAwait(false);
            diskWatchStop.Dispose();
        }

        if (Interlocked.Exchange(ref _slowDiskStop, null) is { } slowDiskStop)
        {
            await slowDiskStop.CancelAsync().ConfigureAwait(false);
            slowDiskStop.Dispose();
        }

        var database = Interlocked.Exchange(ref _database, null);
        if (database is not null)
        {
            // What the engine did over this run (write amplification, flush and compaction volume), for operators.
            StorageStatistics stats = database.GetStatistics();
            LogStatistics(Id, stats.FlushCount, stats.FlushBytesWritten, stats.CompactionBytesWritten, stats.WalBytesWritten, stats.ToString());
            await database.DisposeAsync().ConfigureAwait(false);
            LogClosed(Id);
        }
    }

    public ValueTask DisposeAsync() => new(CloseAsync(CancellationToken.None));

    private async Task WatchWritesAsync(Database database)
    {
        var error = await database.WritesStopped.ConfigureAwait(false);
        LogWritesStopped(Id, error.GetType().Name, error.Message);
        _writesStopped.TrySetResult(error);
    }

    private async Task WatchDiskLatencyAsync(Database database, SlowDiskDetector detector, CancellationToken stop)
    {
        try
        {
            using var timer = new PeriodicTimer(DiskPollInterval);
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var latency = database.WalSyncLatency;
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (detector.Observe(Environment.TickCount64, latency.TakeSlowest(), latency.InFlight(now)))
                {
                    _diskSlow = detector.IsSlow;
                    if (detector.IsSlow)
                    {
                        LogDiskSlow(Id, (long)detector.SlowestSeen.TotalMilliseconds, detector.SlowSyncCount, (long)detector.Window.TotalMilliseconds);
                    }
                    else
                    {
                        LogDiskFastAgain(Id, (long)detector.Recovery.TotalMilliseconds);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The store is closing.
        }
    }

    private async Task WatchSlowDiskAsync(SlowDiskControl control, CancellationToken stop)
    {
        try
        {
            await control.RunAsync(
                delay => LogSlowDiskChanged(Id, (long)delay.TotalMilliseconds),
                problem => LogSlowDiskUnreadable(Id, control.ControlFile, problem),
                stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The store is closing.
        }
    }

    /// <summary>Binds the directory to this store id forever: a silo pointed at another store's data fails fast.</summary>
    private void CheckStoreIdentity(string root)
    {
        string file = Path.Combine(root, StoreFileName);
        if (File.Exists(file))
        {
            string text = File.ReadAllText(file).Trim();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int existing))
            {
                throw new StoreStartupException($"NoKV store: '{file}' is not a store id file (content '{text}').");
            }

            if (existing != Id.Value)
            {
                throw new StoreStartupException($"NoKV store: data directory '{root}' belongs to store {existing}, but this silo is configured as store {Id}.");
            }

            return;
        }

        // Write-then-rename so a crash never leaves a half-written identity behind.
        string temp = file + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(Id.Value.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, file, overwrite: false);
    }
}
