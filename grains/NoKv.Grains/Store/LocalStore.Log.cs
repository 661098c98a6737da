using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Sharding;

namespace NoKv.Grains.Store;

public sealed partial class LocalStore
{
    [LoggerMessage(Level = LogLevel.Information, Message = "NoKV store {Store} opened at {Path}")]
    private partial void LogOpened(StoreId store, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "NoKV store {Store} engine at close: flushes {Flushes}, flush bytes {FlushBytes}, compaction bytes {CompactionBytes}, wal bytes {WalBytes}; {Statistics}")]
    private partial void LogStatistics(StoreId store, long flushes, long flushBytes, long compactionBytes, long walBytes, string statistics);

    [LoggerMessage(Level = LogLevel.Information, Message = "NoKV store {Store} closed")]
    private partial void LogClosed(StoreId store);

    [LoggerMessage(Level = LogLevel.Critical, Message = "NoKV store {Store}: the engine stopped accepting writes ({Error}: {Detail}); this store can persist nothing until its silo restarts")]
    private partial void LogWritesStopped(StoreId store, string error, string detail);

    /// <summary>A line the engine reports on its own (e.g. unsynced WAL bytes dropped at open after a power loss).</summary>
    [LoggerMessage(Level = LogLevel.Warning, Message = "NoKV store {Store} engine: {Line}")]
    private partial void LogEngine(StoreId store, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NoKV store {Store}: DEBUG SWITCH ON, slow disk controlled by {ControlFile} (every engine sync delayed by the milliseconds it holds, now {DelayMs} ms); for tests and chaos runs only, never in production")]
    private partial void LogSlowDiskSwitch(StoreId store, string controlFile, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NoKV store {Store}: slow disk: every engine sync now delayed {DelayMs} ms")]
    private partial void LogSlowDiskChanged(StoreId store, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NoKV store {Store}: slow disk control file {ControlFile} ignored: {Problem}")]
    private partial void LogSlowDiskUnreadable(StoreId store, string controlFile, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NoKV store {Store}: disk slow (log syncs up to {SlowestMs} ms, {Count} or more slow ones within {WindowMs} ms); its replicas hand leadership to peers on healthy stores")]
    private partial void LogDiskSlow(StoreId store, long slowestMs, int count, long windowMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "NoKV store {Store}: disk fast again (no slow log sync for {RecoveryMs} ms); its replicas may lead again")]
    private partial void LogDiskFastAgain(StoreId store, long recoveryMs);
}
