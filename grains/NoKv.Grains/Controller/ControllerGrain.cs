using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Layout;
using NoKv.Grains.Placement;
using NoKv.Replica.Commands;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace NoKv.Grains.Controller;

/// <summary>
/// The controller's logic: one activation per cluster (Orleans places it; a silo failure re-activates it elsewhere).
/// It seeds the controller group from the bootstrap layout on first start, keeps store heartbeats in memory and, every
/// heartbeat interval, commits the store state transitions they call for (<see cref="StoreLiveness"/>). Everything it
/// decides is a compare-and-swap in the controller group, so a duplicate activation during a membership change can
/// only lose races, never commit a conflicting change.
/// Reentrant: heartbeats and views are served while an evaluation waits for its commits.
/// </summary>
[Reentrant]
public sealed partial class ControllerGrain : Grain, IControllerGrain
{
    private readonly ControllerGroupClient _group;
    private readonly StoreLiveness _liveness;
    private readonly NoKvControllerOptions _options;
    private readonly ILocalSiloDetails _silo;
    private readonly ILogger<ControllerGrain> _logger;
    private readonly SplitOperation _splits;

    // Operations this activation is running, so the periodic resume does not start a second copy of them.
    private readonly HashSet<long> _running = new();
    private readonly OperationLoop _operations;
    private IGrainTimer? _timer;
    // The committed state the figures published to every store's heartbeat (status-collection point, format level)
    // are computed from: read at most once per heartbeat interval for all stores.
    private ControllerSnapshot? _published;
    private long _publishedAtMs;
    private Task<ControllerSnapshot>? _publishedRead;
    private IGrainTimer? _operationTimer;
    private bool _evaluating;
    private bool _operating;
    private string? _lastError;
    private string? _lastOperationError;

    public ControllerGrain(IGrainFactory grains, ClusterLayout layout, ControllerMembershipFile membership, StoreDirectory stores, IOptions<NoKvControllerOptions> options, ILocalSiloDetails silo, ILogger<ControllerGrain> logger)
    {
        _options = options.Value;
        _silo = silo;
        _logger = logger;
        _group = new ControllerGroupClient(new GrainControllerTransport(grains, stores.ActiveStores), membership.Membership, Random.Shared.Next(), _options.AttemptTimeout, _options.OperationTimeout);
        _liveness = new StoreLiveness(_group, layout.BootstrapMap, _options.StoreDownAfter);
        var moves = new ReplicaMoveOptions { StepTimeout = _options.OperationStepTimeout, TransferTimeout = _options.LeaderTransferTimeout };
        _operations = new OperationLoop(_group, new GrainReplicaAdmin(grains, _options.AttemptTimeout, _options.OperationTimeout), moves, _options.MaxOperations);
        _splits = new SplitOperation(new ControllerOperationRows(_group), new GrainShardAccess(grains, _options.OperationTimeout), _group.OperationTimeout);
    }

    public async Task<MergeOutcome> MergeShardsAsync(ShardId source, ShardId target)
    {
        await _liveness.EnsureSeededAsync().ConfigureAwait(true);
        var record = await _operations.Merges.StartAsync(source, target).ConfigureAwait(true);
        LogOperationStarted(record.Id, nameof(OperationKind.Merge), source.Value, 0, 0);

        // The operation loop runs it (here or, after a failover, in the next controller activation): wait for its row to go.
        while (await _group.ReadAsync(ControllerRows.Operation(record.Id)).ConfigureAwait(true) is not null)
        {
            await Task.Delay(_options.OperationInterval / 2).ConfigureAwait(true);
        }

        var map = ControllerMap.Decode(await _group.ReadAsync(ControllerRows.Map).ConfigureAwait(true)
            ?? throw new InvalidOperationException("The controller's shard map disappeared."));
        if (Array.Exists(map.Shards, s => s.Id == source) || Array.Find(map.Shards, s => s.Id == target) is not { } merged)
        {
            throw new InvalidOperationException($"The merge of shard {source} into shard {target} ended without merging: {_operations.Merges.EndReason(record.Id) ?? "it rolled back"}; try again.");
        }

        LogMerged(source.Value, merged.ToString());
        return new MergeOutcome(merged, source);
    }

    public async Task<SplitOutcome> SplitShardAsync(ShardId shard, byte[]? key)
    {
        if (shard == SystemShards.Controller)
        {
            throw new ArgumentException("The controller group does not split.", nameof(shard));
        }

        // As merges and moves do: a split asked right after the cluster's first start would otherwise find no map
        // row yet and be refused ("no shard map yet", seen in CI).
        await _liveness.EnsureSeededAsync().ConfigureAwait(true);
        long operation = 0;
        try
        {
            var outcome = await _splits.SplitAsync(shard, key, id => _running.Add(operation = id)).ConfigureAwait(true);
            LogSplit(shard.Value, outcome.Left.ToString(), outcome.Right.ToString());
            return outcome;
        }
        finally
        {
            _running.Remove(operation);
        }
    }

    /// <summary>Resumes split operations a previous controller logic left unfinished (it crashed, or its silo died).</summary>
    private async Task ResumeOperationsAsync()
    {
        var snapshot = await ControllerSnapshot.ReadAsync(_group).ConfigureAwait(true);
        foreach (var operation in snapshot.Operations)
        {
            if (operation.Kind == OperationKind.Split && _running.Add(operation.Id))
            {
                _ = ResumeAsync(operation);
            }
        }
    }

    private async Task ResumeAsync(OperationRecord operation)
    {
        try
        {
            var outcome = await _splits.RunAsync(operation).ConfigureAwait(true);
            LogResumed(operation.Id, outcome is null ? "ended without a split (the shard changed)" : $"{outcome.Left}; {outcome.Right}");
        }
        catch (Exception e)
        {
            LogResumeFailed(operation.Id, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _running.Remove(operation.Id);
        }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _timer = this.RegisterGrainTimer(
            static (grain, _) => grain.EvaluateAsync(),
            this,
            new GrainTimerCreationOptions(TimeSpan.Zero, _options.HeartbeatInterval) { Interleave = true, KeepAlive = true });
        _operationTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.RunOperationsAsync(),
            this,
            new GrainTimerCreationOptions(_options.OperationInterval, _options.OperationInterval) { Interleave = true, KeepAlive = true });
        LogActivated(_silo.SiloAddress.ToString());
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        _operationTimer?.Dispose();
        return Task.CompletedTask;
    }

    public async Task<long> StartOperationAsync(OperationKind kind, ShardId shard, StoreId? from, StoreId to)
    {
        await _liveness.EnsureSeededAsync().ConfigureAwait(true);
        long id = await _operations.StartAsync(kind, shard, from, to).ConfigureAwait(true);
        LogOperationStarted(id, kind.ToString(), shard.Value, from?.Value ?? 0, to.Value);
        return id;
    }

    public async Task DecommissionStoreAsync(StoreId store)
    {
        await _liveness.EnsureSeededAsync().ConfigureAwait(true);
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var row = await _group.ReadAsync(ControllerRows.Store(store)).ConfigureAwait(true)
                ?? throw new ArgumentException($"store {store} is unknown to the controller", nameof(store));
            var record = StoreRecord.Decode(row);
            if (record.State is StoreState.Decommissioning or StoreState.Removed)
            {
                return;
            }

            var next = record with { State = StoreState.Decommissioning, StateSinceUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
            if (await _group.CompareAndSwapAsync(ControllerRows.Store(store), row, next.Encode()).ConfigureAwait(true))
            {
                LogDecommissioning(store.Value);
                return;
            }
        }

        throw new InvalidOperationException($"store {store}'s row kept changing; try again");
    }

    private async Task RunOperationsAsync()
    {
        if (_operating)
        {
            return;
        }

        _operating = true;
        try
        {
            var used = _liveness.Heartbeats.ToDictionary(h => h.Heartbeat.Store, h => h.Heartbeat.UsedBytes);
            var slow = _liveness.Heartbeats.Where(h => h.Heartbeat.DiskSlow).Select(h => h.Heartbeat.Store).ToHashSet();
            var (changes, errors) = await _operations.RunOnceAsync(store => used.GetValueOrDefault(store), default, HeldReplicas(), slow.Contains).ConfigureAwait(true);
            foreach (var orphan in _operations.LastDestroyed)
            {
                Remember($"destroyed {orphan}");
                LogOrphanDestroyed(orphan.ToString());
            }

            foreach (var rollback in _operations.LastRollbacks)
            {
                Remember(rollback);
                LogOperationRollingBack(rollback);
            }

            await BalanceAsync().ConfigureAwait(true);
            if (changes > 0)
            {
                LogOperationsProgressed(changes);
            }

            foreach (var error in errors)
            {
                LogOperationError(error);
            }

            _lastOperationError = null;
        }
        catch (Exception e)
        {
            string error = $"{e.GetType().Name}: {e.Message}";
            if (error != _lastOperationError)
            {
                _lastOperationError = error;
                LogOperationError(error);
            }
        }
        finally
        {
            _operating = false;
        }
    }

    /// <summary>
    /// The replicas each store holds on disk by its latest heartbeat, from stores heard within three intervals only: a
    /// list from a store that has since gone quiet may predate its restart.
    /// </summary>
    private Dictionary<StoreId, HeldReplica[]> HeldReplicas()
    {
        long freshMs = (long)_options.HeartbeatInterval.TotalMilliseconds * 3;
        var held = new Dictionary<StoreId, HeldReplica[]>();
        foreach (var (heartbeat, ageMs) in _liveness.Heartbeats)
        {
            if (ageMs <= freshMs && heartbeat.Held is { } replicas)
            {
                held[heartbeat.Store] = replicas;
            }
        }

        return held;
    }

    public Task HeartbeatAsync(StoreHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        _liveness.OnHeartbeat(heartbeat);
        return Task.CompletedTask;
    }

    public async Task<long> GetStatusCollectionPointAsync()
    {
        // No committed map to judge by: nothing is collected meanwhile.
        return await PublishedSnapshotAsync().ConfigureAwait(true) is { } snapshot
            ? StatusCollectionPoint.Compute(snapshot.Map?.Shards ?? [], _liveness.Heartbeats.Select(h => h.Heartbeat))
            : 0;
    }

    public async Task<int> GetClusterFormatLevelAsync()
    {
        // Without the committed store rows the controller cannot tell which stores must read a command: no new ones.
        return await PublishedSnapshotAsync().ConfigureAwait(true) is { } snapshot
            ? ClusterFormatLevel.Compute(snapshot.Stores.Values.Select(s => s.Record), _liveness.Heartbeats.Select(h => h.Heartbeat))
            : CommandFormatLevel.Base;
    }

    /// <summary>The committed controller state as of at most one heartbeat interval ago; null while it cannot be read.</summary>
    private async Task<ControllerSnapshot?> PublishedSnapshotAsync()
    {
        long now = Environment.TickCount64;
        if (_published is null || now - _publishedAtMs >= _options.HeartbeatInterval.TotalMilliseconds)
        {
            _publishedRead ??= ControllerSnapshot.ReadAsync(_group);
            try
            {
                _published = await _publishedRead.ConfigureAwait(true);
                _publishedAtMs = now;
            }
            catch (NoKvException)
            {
                return null;
            }
            finally
            {
                _publishedRead = null;
            }
        }

        return _published;
    }

    public async Task<ControllerView> GetViewAsync()
    {
        var snapshot = await ControllerSnapshot.ReadAsync(_group).ConfigureAwait(true);
        var shards = snapshot.Map?.Shards ?? [];
        var heartbeats = _liveness.Heartbeats.ToList();
        var leaders = new Dictionary<ShardId, (StoreId Store, ShardStats Stats)>();
        foreach (var (heartbeat, _) in heartbeats)
        {
            foreach (var stats in heartbeat.Shards)
            {
                if (stats.IsLeader && (!leaders.TryGetValue(stats.Shard, out var known) || stats.AppliedIndex > known.Stats.AppliedIndex))
                {
                    leaders[stats.Shard] = (heartbeat.Store, stats);
                }
            }
        }

        var loads = shards.Select(s => leaders.TryGetValue(s.Id, out var l)
            ? new ShardLoad(s.Id, l.Store, l.Stats.WritesPerSecond, l.Stats.ReadsPerSecond, l.Stats.ApproximateBytes, l.Stats.ApproximateKeys)
            : new ShardLoad(s.Id, null, 0, 0, null, null)).ToArray();
        var stores = snapshot.Stores.Values.OrderBy(s => s.Record.Id.Value).Select(s =>
        {
            var record = s.Record;
            var heard = heartbeats.FirstOrDefault(h => h.Heartbeat.Store == record.Id);
            var hb = heard.Heartbeat;
            return new StoreView(
                record.Id,
                hb?.Address ?? (record.Address.Length == 0 ? null : record.Address),
                record.State,
                hb?.CapacityBytes ?? record.CapacityBytes,
                hb?.AvailableBytes ?? 0,
                hb?.UsedBytes ?? 0,
                hb is null ? null : heard.AgeMs,
                shards.Count(d => d.HasReplicaOn(record.Id)),
                leaders.Count(l => l.Value.Store == record.Id),
                hb?.Shards.Where(x => x.IsLeader).Sum(x => x.WritesPerSecond) ?? 0,
                hb?.Shards.Where(x => x.IsLeader).Sum(x => x.ReadsPerSecond) ?? 0,
                record.StateSinceUnixMs,
                shards.Count(d => d.Replicas.Length > 0 && d.Replicas[0] == record.Id),
                hb?.DiskSlow ?? false,
                hb?.HotKeys);
        }).ToArray();
        var operations = snapshot.Operations.Select(o => new OperationView(o.Id, o.Kind, o.Shard, o.Step, o.From, o.To, o.CreatedUnixMs, o.StepSinceUnixMs, _operations.Waiting.GetValueOrDefault(o.Id))).ToArray();
        return new ControllerView(_group.LeaderGuess, _silo.SiloAddress.ToString(), snapshot.Map?.Version ?? 0, shards, loads, stores, operations, snapshot.TimestampHighWater, _group.Membership.Stores, BalancerView());
    }

    private async Task EvaluateAsync()
    {
        if (_evaluating)
        {
            return;
        }

        _evaluating = true;
        try
        {
            int committed = await _liveness.EvaluateAsync().ConfigureAwait(true);
            if (committed > 0)
            {
                LogTransitions(committed);
            }

            await ResumeOperationsAsync().ConfigureAwait(true);

            _lastError = null;
        }
        catch (Exception e)
        {
            // Expected while the controller group has no quorum; one line per distinct failure.
            string error = $"{e.GetType().Name}: {e.Message}";
            if (error != _lastError)
            {
                _lastError = error;
                LogEvaluationFailed(error);
            }
        }
        finally
        {
            _evaluating = false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller logic active on silo {Silo}")]
    private partial void LogActivated(string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller merged shard {Source}: now {Merged}")]
    private partial void LogMerged(long source, string merged);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller split shard {Shard}: {Left}; {Right}")]
    private partial void LogSplit(long shard, string left, string right);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller resumed operation {Operation}: {Outcome}")]
    private partial void LogResumed(long operation, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Controller could not resume operation {Operation}: {Error}")]
    private partial void LogResumeFailed(long operation, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller committed {Count} store state change(s)")]
    private partial void LogTransitions(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Controller could not evaluate store health: {Error}")]
    private partial void LogEvaluationFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller started operation {Id}: {Kind} of shard {Shard} from store {From} to store {To}")]
    private partial void LogOperationStarted(long id, string kind, long shard, int from, int to);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {Store} is decommissioning: its replicas move away")]
    private partial void LogDecommissioning(int store);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Controller operations: {Changes} step(s) recorded or operations started/finished")]
    private partial void LogOperationsProgressed(int changes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller destroyed {Orphan}")]
    private partial void LogOrphanDestroyed(string orphan);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Controller {Rollback}")]
    private partial void LogOperationRollingBack(string rollback);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Controller operation loop: {Error}")]
    private partial void LogOperationError(string error);
}
