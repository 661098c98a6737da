using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Abstractions.Telemetry;
using NoKv.Grains.Store;
using NoKv.Replica.Diagnostics;
using NoKv.Replica.Layout;
using NoKv.Storage;
using Orleans.Runtime;

namespace NoKv.Grains.Telemetry;

/// <summary>
/// The silo's <see cref="IStoreStatusService"/>: assembles the store's report from the engine's statistics, the
/// active replicas (each asked for its status with a silo-local grain call, so its state is read on its own
/// scheduler), the load recorder's samples and the store's event log. Thread-safe; changes nothing.
/// </summary>
public sealed class StoreStatusService : GrainService, IStoreStatusService
{
    private static readonly TimeSpan ReplicaTimeout = TimeSpan.FromSeconds(2);
    private static readonly long ProcessStartedUnixMs = new DateTimeOffset(Process.GetCurrentProcess().StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();

    private readonly LocalStore _store;
    private readonly LocalReplicaRegistry _replicas;
    private readonly StoreLoadRecorder _load;
    private readonly HotKeyTracker _hotKeys;
    private readonly IGrainFactory _grains;

    public StoreStatusService(GrainId grainId, Silo silo, ILoggerFactory loggerFactory, LocalStore store, LocalReplicaRegistry replicas, StoreLoadRecorder load, IGrainFactory grains, HotKeyTracker hotKeys)
        : base(grainId, silo, loggerFactory)
    {
        _store = store;
        _replicas = replicas;
        _load = load;
        _hotKeys = hotKeys;
        _grains = grains;
    }

    public async Task<StoreReport> GetReportAsync(long eventsSinceUnixMs)
    {
        var active = _replicas.Snapshot();
        var statuses = new Task<ReplicaStatus>[active.Length];
        for (int i = 0; i < active.Length; i++)
        {
            statuses[i] = _grains.GetGrain<IShardReplicaGrain>(new ReplicaId(active[i].Key, _store.Id).ToGrainKey()).GetStatusAsync().WaitAsync(ReplicaTimeout);
        }

        var replicas = new HostedReplicaReport[active.Length];
        for (int i = 0; i < active.Length; i++)
        {
            var (shard, load) = active[i];
            ReplicaStatus? status = null;
            string? error = null;
            try
            {
                status = await statuses[i];
            }
            catch (Exception e)
            {
                error = e is TimeoutException ? $"no answer within {ReplicaTimeout.TotalSeconds:F0} s" : e.Message;
            }

            replicas[i] = new HostedReplicaReport
            {
                Shard = shard.Value,
                Status = status,
                Error = error,
                ApproximateBytes = status?.Descriptor is { } d && _store.IsOpen ? ShardBytes(shard, d.Range) : 0,
                ApproximateKeys = status?.Descriptor is { } k && _store.IsOpen ? ShardKeys(shard, k.Range) : 0,
                Writes = load.Writes,
                Reads = load.Reads,
                WriteBytes = load.WriteBytes,
            };
        }

        var stats = StoreRequestStats.For(_store.Id);
        return new StoreReport
        {
            Store = _store.Id,
            Silo = Silo.ToString(),
            UnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            StartedUnixMs = ProcessStartedUnixMs,
            WorkingSetBytes = Environment.WorkingSet,
            Engine = Engine(),
            Replicas = replicas,
            Samples = _load.Samples(),
            Events = Array.ConvertAll(ReplicaEventLog.For(_store.Id).Since(eventsSinceUnixMs), e => new StoreEventReport { UnixMs = e.UnixMs, Shard = e.Shard, Kind = e.Kind, Detail = e.Detail }),
            RequestTotals = [stats.Requests(RequestKind.Write), stats.Requests(RequestKind.Get), stats.Requests(RequestKind.Scan)],
            ErrorTotals = [stats.Errors(RequestKind.Write), stats.Errors(RequestKind.Get), stats.Errors(RequestKind.Scan)],
            HotKeys = _hotKeys.Report(),
        };
    }

    private long ShardBytes(ShardId shard, KeyRange range)
    {
        var (start, end) = KeySpace.DataRange(KeySpace.DataPrefixOf(shard), range.Start, range.End);
        try
        {
            return _store.Database.GetApproximateSize(start, end);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return 0; // Shutting down.
        }
    }

    private long ShardKeys(ShardId shard, KeyRange range)
    {
        var (start, end) = KeySpace.DataRange(KeySpace.DataPrefixOf(shard), range.Start, range.End);
        try
        {
            return _store.Database.GetApproximateEntries(start, end);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return 0; // Shutting down.
        }
    }

    private EngineReport Engine()
    {
        if (!_store.IsOpen)
        {
            return new EngineReport();
        }

        StorageStatistics s;
        try
        {
            s = _store.Database.GetStatistics();
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return new EngineReport();
        }

        var files = new int[s.Levels.Count];
        var bytes = new long[s.Levels.Count];
        for (int i = 0; i < s.Levels.Count; i++)
        {
            files[i] = s.Levels[i].FileCount;
            bytes[i] = s.Levels[i].Bytes;
        }

        return new EngineReport
        {
            LiveTableBytes = s.LiveSstBytes,
            MemtableBytes = s.MemtableBytes,
            LevelFiles = files,
            LevelBytes = bytes,
            UserBytesWritten = s.UserBytesWritten,
            DiskBytesWritten = s.DiskBytesWritten,
            WalSyncs = s.WalSyncCount,
            Flushes = s.FlushCount,
            Compactions = s.CompactionCount,
            StallSeconds = s.StallTime.TotalSeconds,
            BlockCacheHitRate = s.BlockCacheHitRate,
            WriteAmplification = s.WriteAmplification,
        };
    }
}
