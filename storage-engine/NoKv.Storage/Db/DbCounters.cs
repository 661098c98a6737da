using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace NoKv.Storage.Db;

/// <summary>
/// Counters of one database, and their System.Diagnostics.Metrics view: a Meter named "NoKv.Storage" with
/// observable instruments tagged <c>db=&lt;MetricsName or path&gt;</c>. Thread-safe (atomic increments).
/// </summary>
internal sealed class DbCounters : IDisposable
{
    public const string MeterName = "NoKv.Storage";

    private readonly Meter _meter;
    private readonly string _name;
    private long _userBytes;
    private long _walBytes;
    private long _flushBytes;
    private long _compactionBytes;
    private long _stallTicks;
    private long _walSyncs;
    private long _groups;
    private long _flushes;
    private long _compactions;
    private long _flushTicks;
    private long _compactionTicks;
    private long _readTriggeredCompactions;
    private long _subcompactions;
    private long _flushHidden;

    public DbCounters(string name)
    {
        _meter = new Meter(MeterName);
        _name = name;
    }

    /// <summary>Publishes the observable instruments; called once the database is open (callbacks read its state).</summary>
    public void Start(Database db, Compaction.ReadCompactionTracker readCompactions)
    {
        string name = _name;
        var tags = new KeyValuePair<string, object?>[] { new("db", name) };
        _meter.CreateObservableCounter("nokv.storage.user_bytes_written", () => new Measurement<long>(UserBytes, tags), "By", "Bytes of keys and values written by users");
        _meter.CreateObservableCounter("nokv.storage.disk_bytes_written", () => new Measurement<long>(WalBytes + FlushBytes + CompactionBytes, tags), "By", "Bytes written to WAL and tables");
        _meter.CreateObservableGauge("nokv.storage.write_amplification", () => new Measurement<double>(UserBytes == 0 ? 0 : (double)(WalBytes + FlushBytes + CompactionBytes) / UserBytes, tags));
        _meter.CreateObservableCounter("nokv.storage.stall_time", () => new Measurement<double>(StallTime.TotalSeconds, tags), "s", "Time writers were delayed or stopped");
        _meter.CreateObservableCounter("nokv.storage.wal_syncs", () => new Measurement<long>(WalSyncs, tags), "{sync}", "WAL fsyncs (group commit shares one among many writes)");
        _meter.CreateObservableCounter("nokv.storage.wal.written", () => new Measurement<long>(WalBytes, tags), "By", "Bytes appended to the write-ahead log");
        _meter.CreateObservableCounter("nokv.storage.write_groups", () => new Measurement<long>(Groups, tags), "{group}", "Write groups committed, each one WAL append");
        _meter.CreateObservableCounter("nokv.storage.flushes", () => new Measurement<long>(Flushes, tags), "{flush}", "Memtable flushes");
        _meter.CreateObservableCounter("nokv.storage.flush.written", () => new Measurement<long>(FlushBytes, tags), "By", "Bytes of tables written by flushes");
        _meter.CreateObservableCounter("nokv.storage.compactions", () => new Measurement<long>(Compactions, tags), "{compaction}", "Compactions that rewrote tables");
        _meter.CreateObservableCounter("nokv.storage.compaction.written", () => new Measurement<long>(CompactionBytes, tags), "By", "Bytes of tables written by compactions");
        _meter.CreateObservableCounter("nokv.storage.block_cache.hits", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.BlockCacheHits, tags)] : Array.Empty<Measurement<long>>(), "{lookup}", "Block cache lookups that found the block");
        _meter.CreateObservableCounter("nokv.storage.block_cache.misses", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.BlockCacheMisses, tags)] : Array.Empty<Measurement<long>>(), "{lookup}", "Block cache lookups that read the block from disk");
        _meter.CreateObservableCounter("nokv.storage.table_cache.hits", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.TableCacheHits, tags)] : Array.Empty<Measurement<long>>(), "{lookup}", "Table cache lookups that found the table open");
        _meter.CreateObservableCounter("nokv.storage.table_cache.misses", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.TableCacheMisses, tags)] : Array.Empty<Measurement<long>>(), "{lookup}", "Table cache lookups that opened the table");
        _meter.CreateObservableGauge("nokv.storage.memtable.size", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.MemtableBytes, tags)] : Array.Empty<Measurement<long>>(), "By", "Bytes in the mutable and immutable memtables");
        _meter.CreateObservableCounter("nokv.storage.read_triggered_compactions", () => new Measurement<long>(ReadTriggeredCompactions, tags), description: "Compactions started because reads consulted a table and another too often");
        _meter.CreateObservableCounter("nokv.storage.read_sampled_seeks", () => new Measurement<long>(readCompactions.ChargedSeeks, tags), description: "Sampled multi-table reads charged to a table's read-compaction budget");
        _meter.CreateObservableGauge("nokv.storage.wal_recovery_dropped_bytes", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.WalRecovery.DroppedBytes, tags)] : Array.Empty<Measurement<long>>(), "By", "Bytes of damaged WAL tail dropped at the last open");
        _meter.CreateObservableGauge("nokv.storage.pending_table_deletions", () => db.TryGetStatistics() is { } s ? [new Measurement<int>(s.PendingTableDeletions, tags)] : Array.Empty<Measurement<int>>(), description: "Obsolete tables still on disk, queued for deletion or waiting to retry a failed one");
        _meter.CreateObservableGauge("nokv.storage.level_files", () => LevelMeasurements(db, tags, bytes: false));
        _meter.CreateObservableGauge("nokv.storage.level_bytes", () => LevelMeasurements(db, tags, bytes: true), "By");
        _meter.CreateObservableGauge("nokv.storage.value_files", () => db.TryGetStatistics() is { } s ? [new Measurement<int>(s.LiveValueFiles, tags)] : Array.Empty<Measurement<int>>(), "{file}", "Value files the live tables point into (value log)");
        _meter.CreateObservableGauge("nokv.storage.value_file_bytes", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.LiveValueFileBytes, tags)] : Array.Empty<Measurement<long>>(), "By", "Size of the live value files, garbage included");
        _meter.CreateObservableGauge("nokv.storage.value_file_garbage_bytes", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.ValueFileGarbageBytes, tags)] : Array.Empty<Measurement<long>>(), "By", "Value bytes no table points to any more, until garbage collection reclaims them");
        _meter.CreateObservableCounter("nokv.storage.value_relocated", () => db.TryGetStatistics() is { } s ? [new Measurement<long>(s.ValueBytesRelocated, tags)] : Array.Empty<Measurement<long>>(), "By", "Live value bytes value-log garbage collection rewrote since open");
        _meter.CreateObservableGauge("nokv.storage.block_cache_hit_rate", () => db.TryGetStatistics() is { } s ? [new Measurement<double>(s.BlockCacheHitRate, tags)] : Array.Empty<Measurement<double>>());
        _meter.CreateObservableGauge("nokv.storage.table_cache_hit_rate", () => db.TryGetStatistics() is { } s ? [new Measurement<double>(s.TableCacheHitRate, tags)] : Array.Empty<Measurement<double>>());
    }

    public long UserBytes => Interlocked.Read(ref _userBytes);

    public long WalBytes => Interlocked.Read(ref _walBytes);

    public long FlushBytes => Interlocked.Read(ref _flushBytes);

    public long CompactionBytes => Interlocked.Read(ref _compactionBytes);

    public TimeSpan StallTime => TimeSpan.FromTicks(Interlocked.Read(ref _stallTicks));

    public long WalSyncs => Interlocked.Read(ref _walSyncs);

    public long Groups => Interlocked.Read(ref _groups);

    public long Flushes => Interlocked.Read(ref _flushes);

    public long Compactions => Interlocked.Read(ref _compactions);

    /// <summary>Compactions picked because reads used up a table's budget, trivial moves included (which <see cref="Compactions"/> does not count).</summary>
    public long ReadTriggeredCompactions => Interlocked.Read(ref _readTriggeredCompactions);

    public void AddWrite(long userBytes, long walBytes)
    {
        // Only the group leader calls this; plain adds are published by the Interlocked reads.
        Interlocked.Add(ref _userBytes, userBytes);
        Interlocked.Add(ref _walBytes, walBytes);
        Interlocked.Increment(ref _groups);
    }

    public void AddWalSync() => Interlocked.Increment(ref _walSyncs);

    public void AddStall(TimeSpan t) => Interlocked.Add(ref _stallTicks, t.Ticks);

    public void AddFlush(long bytes)
    {
        Interlocked.Add(ref _flushBytes, bytes);
        Interlocked.Increment(ref _flushes);
    }

    /// <summary>Memtable entries a flush left out because no reader could see them.</summary>
    public long FlushHidden => Interlocked.Read(ref _flushHidden);

    public void AddFlushHidden(long entries) => Interlocked.Add(ref _flushHidden, entries);

    public void AddFlushTime(TimeSpan t) => Interlocked.Add(ref _flushTicks, t.Ticks);

    public void AddCompaction(long bytes, TimeSpan elapsed)
    {
        Interlocked.Add(ref _compactionTicks, elapsed.Ticks);
        Interlocked.Add(ref _compactionBytes, bytes);
        Interlocked.Increment(ref _compactions);
    }

    public void AddReadTriggeredCompaction() => Interlocked.Increment(ref _readTriggeredCompactions);

    /// <summary>Key ranges merged by compactions that were split (<see cref="StorageOptions.MaxSubcompactions"/>).</summary>
    public long Subcompactions => Interlocked.Read(ref _subcompactions);

    public void AddSubcompactions(int ranges) => Interlocked.Add(ref _subcompactions, ranges);

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> LevelMeasurements(Database db, KeyValuePair<string, object?>[] tags, bool bytes)
    {
        if (db.TryGetStatistics() is not { } stats)
        {
            return [];
        }

        var result = new List<Measurement<long>>(stats.Levels.Count);
        foreach (LevelStatistics l in stats.Levels)
        {
            var t = new KeyValuePair<string, object?>[] { tags[0], new("level", l.Level) };
            result.Add(new Measurement<long>(bytes ? l.Bytes : l.FileCount, t));
        }

        return result;
    }
}
