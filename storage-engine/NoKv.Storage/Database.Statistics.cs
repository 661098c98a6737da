using NoKv.Storage.Cache;
using NoKv.Storage.Db;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;

namespace NoKv.Storage;

/// <summary>Statistics snapshot.</summary>
public sealed partial class Database
{
    /// <summary>For metric callbacks, which may race with Dispose: null instead of an exception.</summary>
    internal StorageStatistics? TryGetStatistics()
    {
        try
        {
            return Volatile.Read(ref _disposed) == 0 ? GetStatistics() : null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    public StorageStatistics GetStatistics()
    {
        ThrowIfDisposed();
        SuperVersion sv = AcquireSuperVersion();
        try
        {
            var levels = new List<LevelStatistics>(sv.Version.NumLevels);
            long live = 0;
            for (int i = 0; i < sv.Version.NumLevels; i++)
            {
                long bytes = sv.Version.LevelBytes(i);
                live += bytes;
                levels.Add(new LevelStatistics(i, sv.Version.Files[i].Length, bytes));
            }

            long mem = sv.Mem.MemoryUsage;
            foreach (MemTable m in sv.Immutables)
            {
                mem += m.MemoryUsage;
            }

            long valueFileBytes = 0;
            long valueGarbage = 0;
            foreach (ValueLog.ValueFileMeta f in sv.Version.ValueFiles)
            {
                valueFileBytes += f.FileSize;
                valueGarbage += f.GarbageBytes;
            }

            BlockCacheStatistics? bc = _blockCache?.GetStatistics();
            TableCacheStatistics tc = _tables.GetStatistics();
            return new StorageStatistics
            {
                UserBytesWritten = _counters.UserBytes,
                WalBytesWritten = _counters.WalBytes,
                FlushBytesWritten = _counters.FlushBytes,
                FlushEntriesDropped = _counters.FlushHidden,
                CompactionBytesWritten = _counters.CompactionBytes,
                Levels = levels,
                LiveSstBytes = live,
                LiveValueFiles = sv.Version.ValueFiles.Length,
                LiveValueFileBytes = valueFileBytes,
                ValueFileGarbageBytes = valueGarbage,
                ValueFilesCreated = Interlocked.Read(ref _valueFilesCreated),
                ValueBytesRelocated = Interlocked.Read(ref _valueBytesRelocated),
                MemtableBytes = mem,
                MemtableLimitBytes = _memory.MemtableBytes,
                BlockCacheCapacityBytes = _memory.BlockCacheBytes,
                BlockCacheUsageBytes = bc?.UsageBytes ?? 0,
                TableCacheBytes = tc.OpenTableBytes,
                PinnedTableBytes = _pins.PinnedBytes,
                BlockCacheHits = bc?.Hits ?? 0,
                BlockCacheMisses = bc?.Misses ?? 0,
                TableCacheHits = tc.Hits,
                TableCacheMisses = tc.Misses,
                StallTime = _counters.StallTime,
                BackgroundPacedTime = _backgroundWriteLimiter?.Waited ?? TimeSpan.Zero,
                BackgroundUnpacedBytes = _backgroundWriteLimiter?.UnpacedBytes ?? 0,
                FlushCount = _counters.Flushes,
                CompactionCount = _counters.Compactions,
                SubcompactionCount = _counters.Subcompactions,
                ReadTriggeredCompactionCount = _counters.ReadTriggeredCompactions,
                ReadSampledSeeks = _readCompactions.ChargedSeeks,
                ReadTriggeredCompactionsSkipped = _readCompactions.DroppedCandidates + _readCompactions.TooWideCandidates,
                ReadTriggeredCompactionsDeferred = _readCompactions.DeferredCandidates,
                WalSyncCount = _counters.WalSyncs,
                WriteGroupCount = _counters.Groups,
                LastSequence = LastSequence,
                WalRecovery = _walRecovery,
                PendingTableDeletions = _purger.Pending,
            };
        }
        finally
        {
            sv.Unref();
        }
    }
}
