using NoKv.Storage.Sstable;

namespace NoKv.Grains.Store;

/// <summary>The silo's store: its identity and where its engine lives. Validated by <see cref="NoKvStoreOptionsValidator"/>.</summary>
public sealed class NoKvStoreOptions
{
    /// <summary>This silo's store id (1 and up). Persisted in the data directory on first start; a mismatch later fails the start.</summary>
    public int StoreId { get; set; }

    /// <summary>Directory holding the engine and the store identity file. Created if missing; must be writable.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Engine memtable size; smaller keeps test silos light.</summary>
    /// <remarks>
    /// 16 MiB because most of a silo's memtable is Raft log entries that are truncated long before it fills, and the
    /// flush leaves them out (docs/storage-write-path.md): a smaller skiplist keeps inserts in cache and costs only
    /// cheap, small flushes. Cluster benchmark, write/c64, 3 launches of 3 points each, interleaved on the 2-core
    /// machine (2026-11-25): 16 MiB 12,175 ops/s mean (124-170 us of silo CPU per put), 64 MiB 11,031 (133-175 us); over 30 s
    /// of sustained writes (one launch of 6 points each) 14,018 against 13,049.
    /// Before the flush dropped covered entries, 8 MiB was no better than 64 MiB over 40 s of sustained writes.
    /// </remarks>
    public long MemtableSizeBytes { get; set; } = 16L << 20;

    /// <summary>Engine block cache bound.</summary>
    public long BlockCacheBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Bound on the engine's write buffers, block cache and table index/filter memory together (0 = none; at least
    /// 1 MiB otherwise). See docs/storage-memory.md.
    /// </summary>
    public long MemoryBudgetBytes { get; set; }

    // The engine's background work is paced so that a memtable flush does not show up as write latency: each
    // silo's flush lands while every write of the silo waits on a WAL sync, and on a shared machine all replicas
    // of a shard flush at about the same moment (they apply the same writes). Measured in the cluster benchmark
    // (write/c64, three silos and the client on 2 cores): without pacing, the half second of a flush had p50
    // 14-29 ms and p99 50-96 ms against 4-5 and 10-14 ms around it. See docs/cluster-tail-latency.md.

    /// <summary>Nice value of the engine's flush and compaction threads (Linux; 0 = the process's priority).</summary>
    public int BackgroundThreadNice { get; set; } = 10;

    /// <summary>Table files are handed to the device every this many bytes while written (0 = only at the end).</summary>
    public long TableBytesPerSync { get; set; } = 1L << 20;

    /// <summary>Bound on flush plus compaction table writes per second (0 = unbounded).</summary>
    public long BackgroundWriteBytesPerSecond { get; set; } = 32L << 20;

    /// <summary>
    /// Block codec per engine level, comma-separated (none, lz4, zstd; entry i for level i, the last for every deeper
    /// level). The default leaves levels 0-1 plain (they hold mostly short-lived Raft log entries and are rewritten
    /// soonest), LZ4 in the middle, Zstandard at the bottom where most of the data ends up and is rewritten least.
    /// Only tables written afterwards follow a change; every table stays readable.
    /// </summary>
    public string Compression { get; set; } = "none,none,lz4,lz4,lz4,zstd";

    /// <summary>
    /// Debug switch for tests and chaos runs (null = off, the default): a file whose content, a whole number of
    /// milliseconds, delays every file and directory sync of the engine (a slow disk), changeable while the silo runs
    /// (<see cref="SlowDiskControl"/>). The engine then runs on a fault-injecting file system, which also reads tables
    /// without memory maps. Never for production: the silo refuses it with authentication on.
    /// </summary>
    public string? SlowDiskControlFile { get; set; }

    /// <summary>
    /// A log sync at least this long is slow (zero = slow-disk detection off). While the disk is slow the store's
    /// replicas hand their leadership to peers on healthy stores, and peers do not hand it back (docs/replica.md, "Slow
    /// disks"). 200 ms: a healthy disk syncs in well under 10 ms here even under load, and etcd warns of a slow
    /// fdatasync from 1 s; a leader waiting 200 ms per sync already doubles or triples its clients' latency.
    /// </summary>
    public TimeSpan SlowSyncThreshold { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many slow syncs within <see cref="SlowDiskWindow"/> make the disk slow (one alone may be a hiccup).</summary>
    public int SlowSyncCount { get; set; } = 2;

    /// <summary>The window over which slow syncs are counted.</summary>
    public TimeSpan SlowDiskWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A slow disk is fast again after this long without a slow sync (longer than the window: no flapping).</summary>
    public TimeSpan SlowDiskRecovery { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Obsolete logs are deleted this many bytes at a time (0 = at once).</summary>
    public long LogDeleteStepBytes { get; set; } = 4L << 20;

    /// <summary>Parses <see cref="Compression"/>; false (and no list) if any entry is not a known codec.</summary>
    public static bool TryParseCompression(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CompressionType[]? codecs)
    {
        codecs = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new CompressionType[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            switch (parts[i].ToLowerInvariant())
            {
                case "none":
                    parsed[i] = CompressionType.None;
                    break;
                case "lz4":
                    parsed[i] = CompressionType.Lz4;
                    break;
                case "zstd":
                    parsed[i] = CompressionType.Zstd;
                    break;
                default:
                    return false;
            }
        }

        codecs = parsed;
        return true;
    }
}
