using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Grains.Hosting;
using NoKv.Grains.Store;
using NoKv.Grains.Telemetry;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Telemetry;
using NoKv.Replica.Commands;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using Orleans.Runtime;

namespace NoKv.Grains.Controller;

/// <summary>
/// Sends this store's heartbeat to the controller every <see cref="NoKvControllerOptions.HeartbeatInterval"/> once the
/// silo is active, until it stops: address, disk capacity and use, and per hosted replica its role, indexes and read
/// and write rates over the last interval (writes counted by the applied index, so nothing is added to the write
/// path). A heartbeat that fails is logged once per outage and the loop goes on: the controller only needs the
/// next one.
/// </summary>
public sealed partial class StoreHeartbeatService : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly LocalStore _store;
    private readonly LocalReplicaRegistry _registry;
    private readonly ILocalSiloDetails _silo;
    private readonly NoKvControllerOptions _options;
    private readonly string _dataDirectory;
    private readonly ILogger<StoreHeartbeatService> _logger;
    private readonly Dictionary<NoKv.Abstractions.Sharding.ShardId, (long Applied, long Reads)> _previous = new();
    private readonly SiloTimerLoop _loop;
    private readonly IGrainFactory _grains;
    private readonly HotKeyTracker _hotKeys;
    private IControllerGrain? _controller;
    private long _previousAt;
    private bool _failing;

    public StoreHeartbeatService(IGrainFactory grains, LocalStore store, LocalReplicaRegistry registry, ILocalSiloDetails silo, IOptions<NoKvControllerOptions> options, IOptions<NoKvStoreOptions> storeOptions, ILogger<StoreHeartbeatService> logger, HotKeyTracker hotKeys)
    {
        _hotKeys = hotKeys;
        _store = store;
        _registry = registry;
        _silo = silo;
        _options = options.Value;
        _grains = grains;
        _dataDirectory = Path.GetFullPath(storeOptions.Value.DataDirectory);
        _logger = logger;
        _loop = new SiloTimerLoop(_options.HeartbeatInterval, BeatAsync);
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StoreHeartbeatService), ServiceLifecycleStage.Active, StartAsync, _loop.StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _previousAt = Environment.TickCount64;
        _controller = _grains.GetGrain<IControllerGrain>(ShardMapGrainKeys.Cluster);
        _loop.Start();
        return Task.CompletedTask;
    }

    private async Task BeatAsync(CancellationToken stop)
    {
        try
        {
            var heartbeat = Collect();
            await _controller!.HeartbeatAsync(heartbeat).WaitAsync(_options.HeartbeatInterval * 2, stop).ConfigureAwait(false);
            // The point comes back the same way the reports go out; a controller that cannot answer it yet says 0.
            long point = await _controller.GetStatusCollectionPointAsync().WaitAsync(_options.HeartbeatInterval * 2, stop).ConfigureAwait(false);
            _registry.RaiseStatusCollectionPoint(point);
            await RefreshFormatLevelAsync(stop).ConfigureAwait(false);
            if (_failing)
            {
                _failing = false;
                LogHeartbeatRecovered(_store.Id.Value);
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            if (!_failing)
            {
                _failing = true;
                LogHeartbeatFailed(_store.Id.Value, e.GetType().Name, e.Message);
            }
        }
    }

    private async Task RefreshFormatLevelAsync(CancellationToken stop)
    {
        try
        {
            _registry.RaiseClusterFormatLevel(await _controller!.GetClusterFormatLevelAsync().WaitAsync(_options.HeartbeatInterval * 2, stop).ConfigureAwait(false));
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            // A controller of a build before format levels has no such method: the level stays where it was, which
            // keeps newer commands off until that controller is upgraded too. Not a failed heartbeat.
            LogFormatLevelUnavailable(_store.Id.Value, e.GetType().Name, e.Message);
        }
    }

    private StoreHeartbeat Collect()
    {
        long now = Environment.TickCount64;
        double seconds = Math.Max(0.001, (now - _previousAt) / 1000.0);
        _previousAt = now;
        var shards = new List<ShardStats>();
        var seen = new HashSet<NoKv.Abstractions.Sharding.ShardId>();
        foreach (var (shard, load) in _registry.Snapshot())
        {
            long applied = load.AppliedIndex;
            long reads = load.Reads;
            var before = _previous.TryGetValue(shard, out var p) ? p : (Applied: applied, Reads: reads);
            _previous[shard] = (applied, reads);
            seen.Add(shard);
            // Only a leader's figures count at the controller; its size estimate comes from table metadata and index
            // blocks (no data is read), so a heartbeat stays cheap with many shards.
            var (bytes, keys) = load.IsLeader && load.Range is { } range ? Approximate(shard, range) : (null, null);
            byte[]? splitKey = load.Range is { } current ? load.Keys.TakeSplitKey(current) : null;

            // The lock-free finding stays true for its epoch whoever leads now, so a follower that found it as leader
            // still reports it; the controller only counts findings at the shard's current epoch.
            var lockFree = load.LockFree;
            shards.Add(new ShardStats(shard, load.IsLeader, load.Epoch, load.ConfVersion, applied, Math.Max(0, applied - before.Applied) / seconds, Math.Max(0, reads - before.Reads) / seconds, bytes, keys, lockFree?.Point, lockFree?.Epoch ?? 0, load.IsLeader ? splitKey : null));
        }

        foreach (var gone in _previous.Keys.Where(s => !seen.Contains(s)).ToList())
        {
            _previous.Remove(gone);
        }

        long capacity = 0, available = 0, used = 0;
        try
        {
            var drive = new DriveInfo(_dataDirectory);
            capacity = drive.TotalSize;
            available = drive.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // Not every file system reports its size; the heartbeat still carries everything else.
        }

        if (_store.IsOpen)
        {
            var stats = _store.Database.GetStatistics();
            used = stats.LiveSstBytes + stats.MemtableBytes;
        }

        return new StoreHeartbeat(_store.Id, _silo.SiloAddress.ToString(), capacity, available, used, shards.ToArray(), HeldReplicas(), _store.IsDiskSlow, HotKeys(), CommandFormatLevel.Current);
    }

    /// <summary>The tracker's last complete window, bounded for the heartbeat (a few kilobytes at most).</summary>
    private HotKeyReport[] HotKeys() =>
        _hotKeys.Report()
            .Take(StoreHeartbeat.MaxHotKeys)
            .Select(h => h.Key.Length <= StoreHeartbeat.MaxHotKeyBytes ? h : new HotKeyReport { Shard = h.Shard, Key = h.Key[..StoreHeartbeat.MaxHotKeyBytes], RequestsPerSecond = h.RequestsPerSecond })
            .ToArray();

    /// <summary>
    /// Every replica this store holds on disk, including ones nobody has activated since the store started (a replica
    /// removed while the store was away is never addressed again, so only this list shows it to the controller). One
    /// engine seek per shard; null while the store is closed, which the controller reads as "nothing known".
    /// </summary>
    private HeldReplica[]? HeldReplicas()
    {
        if (!_store.IsOpen)
        {
            return null;
        }

        try
        {
            // The controller group's replicas too: a store that was away while its controller peer was moved off
            // returns holding it, and the controller destroys it as an orphan against the group's own descriptor.
            return ReplicaDirectory.List(_store.Database)
                .Select(r => new HeldReplica(r.Shard, r.PeerId, r.Descriptor.ConfVersion, r.Initialized, r.Descriptor.Range, r.Descriptor.Epoch))
                .ToArray();
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return null; // Shutting down.
        }
    }

    /// <summary>
    /// The shard's data on disk and its keys by the engine's estimates from table metadata (memtables not counted; a
    /// key's versions and tombstones not yet compacted count as keys), or nulls while the store is closed. The key
    /// count is the tables' entry counts in proportion to the bytes in range, not a counter kept by the state machine:
    /// a counter would need a read before every write to tell an insert from an overwrite, and a split, a merge or a
    /// snapshot would have to carry it; the estimate costs nothing on the write path and follows every range change.
    /// </summary>
    private (long? Bytes, long? Keys) Approximate(NoKv.Abstractions.Sharding.ShardId shard, NoKv.Abstractions.Sharding.KeyRange range)
    {
        if (!_store.IsOpen)
        {
            return (null, null);
        }

        var (start, end) = KeySpace.DataRange(KeySpace.DataPrefixOf(shard), range.Start, range.End);
        try
        {
            return (_store.Database.GetApproximateSize(start, end), _store.Database.GetApproximateEntries(start, end));
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return (null, null); // Shutting down.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store {Store}: heartbeat to the controller failed ({Error}: {Detail}); retrying every interval")]
    private partial void LogHeartbeatFailed(int store, string error, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {Store}: heartbeats reach the controller again")]
    private partial void LogHeartbeatRecovered(int store);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Store {Store}: the controller did not give the cluster's format level ({Error}: {Detail}); keeping the last one heard")]
    private partial void LogFormatLevelUnavailable(int store, string error, string detail);
}
