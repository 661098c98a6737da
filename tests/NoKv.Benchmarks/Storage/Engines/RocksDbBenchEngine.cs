using System.Globalization;
using RocksDbSharp;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>
/// RocksDB through the `RocksDB` NuGet package (RocksDbSharp over the native library shipped in the
/// package). Uses span overloads for writes and an allocation-free pinned read for gets.
/// Statistics are enabled (ticker counters only) so the engine can report its own write
/// amplification: (WAL bytes + flush bytes + compaction bytes) / user bytes.
/// </summary>
public sealed class RocksDbBenchEngine : IBenchEngine
{
    private readonly RocksDb _db;
    private readonly DbOptions _options;
    private readonly WriteOptions _bufferedWrite = new WriteOptions().SetSync(false);
    private readonly WriteOptions _syncedWrite = new WriteOptions().SetSync(true);
    private readonly ReadOptions _readOptions = new();
    private readonly FlushOptions _flushOptions = new FlushOptions().SetWaitForFlush(true);
    private readonly List<string> _notes = [];

    /// <param name="mappedReads">allow_mmap_reads; null = whatever NoKv uses by default on this platform.</param>
    /// <param name="separateValues">
    /// Integrated BlobDB: enable_blob_files with min_blob_size = <see cref="EngineSettings.SeparatedValueMinBytes"/>,
    /// blob garbage collection on (RocksDB's defaults otherwise: 256 MiB blob files, age cutoff 0.25). RocksDbSharp
    /// has no wrappers for these options; they are set through its native bindings.
    /// </param>
    public RocksDbBenchEngine(string path, EngineSettings settings, bool? mappedReads = null, bool separateValues = false)
    {
        Name = separateValues ? "rocksdb-blob" : "rocksdb";
        var mapped = mappedReads ?? MappedReads;
        var tableOptions = new BlockBasedTableOptions()
            .SetBlockCache(Cache.CreateLru((ulong)settings.BlockCacheBytes))
            .SetFilterPolicy(BloomFilterPolicy.Create(settings.BloomBitsPerKey, false))
            .SetWholeKeyFiltering(true)
            .SetBlockSize((ulong)settings.BlockSizeBytes)
            .SetBlockRestartInterval(16);
        _options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCompression(settings.Compression switch
            {
                "lz4" => Compression.Lz4,
                "zstd" => Compression.Zstd,
                _ => Compression.No,
            })
            .SetWriteBufferSize((ulong)settings.MemtableBytes)
            .SetMaxWriteBufferNumber(3)
            .SetTargetFileSizeBase((ulong)settings.TargetFileSizeBytes)
            .SetMaxBytesForLevelBase((ulong)settings.MaxBytesForLevelBase)
            .SetMaxBytesForLevelMultiplier(settings.LevelSizeMultiplier)
            .SetLevelCompactionDynamicLevelBytes(false)
            .SetLevel0FileNumCompactionTrigger(settings.Level0CompactionTrigger)
            .SetMaxOpenFiles(1000)
            .SetAllowMmapReads(mapped)
            .SetBlockBasedTableFactory(tableOptions)
            .EnableStatistics();
        if (settings.BackgroundWriteBytesPerSecond > 0)
        {
            // RocksDB's generic rate limiter over flush and compaction writes (100 ms refill, fairness 10: its defaults).
            Native.Instance.rocksdb_options_set_ratelimiter(_options.Handle,
                Native.Instance.rocksdb_ratelimiter_create(settings.BackgroundWriteBytesPerSecond, 100_000, 10));
            _notes.Add($"RocksDB: rate_limiter {settings.BackgroundWriteBytesPerSecond >> 20} MiB/s");
        }

        if (settings.TableBytesPerSync > 0)
        {
            _options.SetBytesPerSync((ulong)settings.TableBytesPerSync);
        }

        if (separateValues)
        {
            Native.Instance.rocksdb_options_set_enable_blob_files(_options.Handle, 1);
            Native.Instance.rocksdb_options_set_min_blob_size(_options.Handle, (ulong)settings.SeparatedValueMinBytes);
            Native.Instance.rocksdb_options_set_enable_blob_gc(_options.Handle, 1);
            _notes.Add($"rocksdb-blob: enable_blob_files=true, min_blob_size={settings.SeparatedValueMinBytes}, enable_blob_garbage_collection=true, " +
                       $"blob_file_size={Native.Instance.rocksdb_options_get_blob_file_size(_options.Handle) >> 20} MiB, " +
                       $"blob_garbage_collection_age_cutoff={Native.Instance.rocksdb_options_get_blob_gc_age_cutoff(_options.Handle)}, no blob cache, no blob compression");
        }

        _db = RocksDb.Open(_options, path);
        _notes.Add("RocksDB: block-based tables, LRU block cache, full bloom filter, compression as in the settings line, static level sizes " +
                   "(level_compaction_dynamic_level_bytes=false, to match the fixed per-level targets), max_write_buffer_number=3, " +
                   "index/filter blocks outside the block cache (default), statistics on");
        _notes.Add(mapped
            ? "RocksDB: allow_mmap_reads=true, the same I/O mode as NoKv's mapped tables (checksums still verified per read)"
            : "RocksDB: allow_mmap_reads=false, reads with pread into the block cache, the same I/O mode as NoKv's unmapped tables");
        _notes.Add("RocksDB fillsync: WriteOptions.sync=true per Put; concurrent fillsync uses RocksDB's own write-group commit");
    }

    public string Name { get; }

    /// <summary>
    /// NoKv reads tables through memory maps where its default allows it; RocksDB gets the same I/O mode so the
    /// read workloads compare the engines, not pread against mmap.
    /// </summary>
    private static bool MappedReads => new NoKv.Storage.StorageOptions().UseMappedReads;

    public IReadOnlyList<string> Notes => _notes;

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool sync) =>
        _db.Put(key, value, null, sync ? _syncedWrite : _bufferedWrite);

    public IBenchReader CreateReader() => new RocksDbBenchReader(_db, _readOptions);

    public IBenchIterator CreateIterator() => new RocksDbBenchIterator(_db.NewIterator(null, _readOptions));

    public void Flush()
    {
        _db.Flush(_flushOptions);
    }

    public double? EngineWriteAmplification()
    {
        var text = _options.GetStatisticsString();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        var user = Ticker(text, "rocksdb.bytes.written");
        var wal = Ticker(text, "rocksdb.wal.bytes");
        var flush = Ticker(text, "rocksdb.flush.write.bytes");
        var compaction = Ticker(text, "rocksdb.compact.write.bytes");
        return user > 0 ? (double)(wal + flush + compaction) / user : null;
    }

    public long? LiveTableBytes() =>
        long.TryParse(_db.GetProperty("rocksdb.live-sst-files-size"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long bytes) ? bytes : null;

    public int? Level0Files() =>
        int.TryParse(_db.GetProperty("rocksdb.num-files-at-level0"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int files) ? files : null;

    public double? StallSeconds() => Ticker(_options.GetStatisticsString() ?? "", "rocksdb.stall.micros") / 1e6;

    public string? DescribeState()
    {
        // "rocksdb.levelstats" is a small table: two header lines, then "level files size(MB)" rows.
        var table = _db.GetProperty("rocksdb.levelstats");
        if (table is null)
        {
            return null;
        }
        var levels = new List<string>();
        foreach (var line in table.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 3 && int.TryParse(fields[0], CultureInfo.InvariantCulture, out var level)
                && int.TryParse(fields[1], CultureInfo.InvariantCulture, out var files) && files > 0)
            {
                levels.Add($"L{level}={files} files/{fields[2]} MB");
            }
        }
        var stallMicros = Ticker(_options.GetStatisticsString() ?? "", "rocksdb.stall.micros");
        return $"levels[{string.Join(' ', levels)}] stall={stallMicros / 1000}ms";
    }

    public void Dispose()
    {
        _db.Dispose();
    }

    /// <summary>Reads "name COUNT : N" from RocksDB's statistics dump; 0 when absent.</summary>
    private static long Ticker(string statistics, string name)
    {
        foreach (var line in statistics.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length || line[name.Length] != ' ')
            {
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon < 0)
            {
                return 0;
            }
            var rest = line[(colon + 1)..].Trim();
            var space = rest.IndexOf(' ');
            if (space >= 0)
            {
                rest = rest[..space];
            }
            return long.TryParse(rest, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;
        }
        return 0;
    }
}
