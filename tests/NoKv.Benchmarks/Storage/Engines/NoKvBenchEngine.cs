using NoKv.Storage;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>
/// NoKv.Storage.Database. Every shared setting maps one-to-one onto <see cref="StorageOptions"/>;
/// MaxImmutableMemtables = 2 matches RocksDB's max_write_buffer_number = 3 (one active + two
/// immutable). Reads use the allocation-free TryGet(IBufferWriter) path.
/// </summary>
public sealed class NoKvBenchEngine : IBenchEngine
{
    private readonly Database _db;
    private readonly List<string> _notes = [];

    /// <param name="mappedReads">Table read mode; null = the engine's default for this platform.</param>
    /// <param name="separateValues">Turns the value log on (values of at least <see cref="EngineSettings.SeparatedValueMinBytes"/>).</param>
    public NoKvBenchEngine(string path, EngineSettings settings, bool? mappedReads = null, bool separateValues = false)
    {
        Name = separateValues ? "nokv-vlog" : "nokv";
        var defaults = new StorageOptions();
        var options = new StorageOptions
        {
            MemtableSizeBytes = settings.MemtableBytes,
            MaxImmutableMemtables = 2,
            BlockCacheBytes = settings.BlockCacheBytes,
            BloomBitsPerKey = settings.BloomBitsPerKey,
            BlockSizeBytes = settings.BlockSizeBytes,
            BlockRestartInterval = 16,
            TargetFileSizeBytes = settings.TargetFileSizeBytes,
            MaxBytesForLevelBase = settings.MaxBytesForLevelBase,
            LevelSizeMultiplier = settings.LevelSizeMultiplier,
            Level0CompactionTrigger = settings.Level0CompactionTrigger,
            MaxOpenTables = 1000,
            VerifyChecksums = true,
            UseMappedReads = mappedReads ?? defaults.UseMappedReads,
            CompressionPerLevel = settings.Compression switch
            {
                "lz4" => [NoKv.Storage.Sstable.CompressionType.Lz4],
                "zstd" => [NoKv.Storage.Sstable.CompressionType.Zstd],
                _ => null,
            },
            BackgroundWriteBytesPerSecond = settings.BackgroundWriteBytesPerSecond,
            TableBytesPerSync = settings.TableBytesPerSync,
            ValueLogMinValueBytes = separateValues ? settings.SeparatedValueMinBytes : 0,

            // NOKV_INFO_LOG=1: the engine's info lines (one per compaction among them) on stderr, with seconds since open.
            MaxSubcompactions = int.TryParse(Environment.GetEnvironmentVariable("NOKV_SUBCOMPACTIONS"), out int subcompactions) ? subcompactions : 1,
            CostAwareCompactionPicking = Environment.GetEnvironmentVariable("NOKV_PICKER") != "score",
            InfoLog = Environment.GetEnvironmentVariable("NOKV_INFO_LOG") == "1" ? InfoLogToStderr() : null,
        };
        _db = Database.Open(path, options);
        _notes.Add("NoKv: shared settings map 1:1 onto StorageOptions, MaxImmutableMemtables=2, checksums verified on every block read, " +
                   $"reads through TryGet(IBufferWriter), tables {(options.UseMappedReads ? "memory-mapped (data blocks bypass the block cache; the OS page cache holds them)" : "read with pread into the block cache")}");
        if (separateValues)
        {
            _notes.Add($"nokv-vlog: value log on (ValueLogMinValueBytes={options.ValueLogMinValueBytes}, ValueFileSizeBytes={options.ValueFileSizeBytes >> 20} MiB, " +
                       $"garbage collection below {options.ValueLogGcLiveRatio:0.##} live)");
        }

        _notes.Add("NoKv fillsync: Put with WriteOptions.Synced; concurrent fillsync = 32 threads calling Put(Synced), grouped by the WAL's group commit");
    }

    private static Action<string> InfoLogToStderr()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return line => Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[nokv {clock.Elapsed.TotalSeconds,7:F2}s] {line}"));
    }

    public string Name { get; }

    public IReadOnlyList<string> Notes => _notes;

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool sync) =>
        _db.Put(key, value, sync ? WriteOptions.Synced : WriteOptions.Default);

    public IBenchReader CreateReader() => new NoKvBenchReader(_db);

    public IBenchIterator CreateIterator() => new NoKvBenchIterator(_db.NewIterator());

    public void Flush() => _db.Flush();

    public double? EngineWriteAmplification() => _db.GetStatistics().WriteAmplification;

    public string? DescribeState() => _db.GetStatistics().ToString();

    public long? LiveTableBytes() => _db.GetStatistics().LiveSstBytes;

    public int? Level0Files() => _db.GetStatistics().Levels is { Count: > 0 } levels ? levels[0].FileCount : 0;

    public double? StallSeconds() => _db.GetStatistics().StallTime.TotalSeconds;

    public string? DescribeMemory()
    {
        StorageStatistics stats = _db.GetStatistics();
        NoKv.Storage.Memtable.ArenaChunkPool pool = _db.ArenaChunks;
        return $"memtables {stats.MemtableBytes >> 20} MiB, arena pool free {pool.FreeChunks}, created {pool.CreatedChunks}, dropped {pool.DroppedChunks}, released {pool.ReleasedBytes >> 20} MiB";
    }

    public void Dispose() => _db.Dispose();
}
