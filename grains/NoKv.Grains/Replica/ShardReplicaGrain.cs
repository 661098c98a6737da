using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Buffers;
using System.Diagnostics;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Abstractions.Transactions;
using NoKv.Grains.Controller;
using NoKv.Grains.Layout;
using NoKv.Grains.Placement;
using NoKv.Grains.Raft;
using NoKv.Grains.Store;
using NoKv.Grains.Telemetry;
using NoKv.Raft.Messages;
using NoKv.Replica;
using NoKv.Replica.Core;
using Orleans.Concurrency;
using Orleans.GrainDirectory;
using Orleans.Runtime;

namespace NoKv.Grains.Replica;

/// <summary>
/// The Orleans adapter of one shard replica (<see cref="ReplicaCore"/>, which decides everything): it opens the
/// core on activation, ticks it with a grain timer, carries its Raft messages as one-way grain calls and hands it
/// client requests.
/// <para>Concurrency: the grain is reentrant so that a client call waiting for its entry to commit does not block
/// the Raft messages that commit it. Orleans still runs one turn at a time, which is the single logical thread the
/// core requires.</para>
/// <para>Calls to peers are one-way and never awaited, so no replica waits on a call that could wait on it.</para>
/// </summary>
[ShardReplicaPlacement]
[GrainDirectory(GrainDirectoryName = StorePinnedGrainDirectory.Name)]
[Reentrant]
public sealed partial class ShardReplicaGrain : Grain, IShardReplicaGrain, IReplicaHost, IDrivenReplica
{
    private readonly LocalStore _store;
    private readonly ClusterLayout _layout;
    private readonly ReplicaOptions _options;
    private readonly ILogger<ShardReplicaGrain> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly ILocalSiloDetails _silo;
    private readonly PeerWarningLimiter _badBatches;
    private readonly LocalReplicaRegistry _registry;
    private readonly ReplicaDriver _driver;

    private readonly RaftTransport _transport;

    // Raft messages the silo's transport decoded for this replica, waiting for a turn on this activation.
    private readonly System.Collections.Concurrent.ConcurrentQueue<(StoreId From, Message[] Messages)> _deliveries = new();
    private int _deliveryQueued;

    private ReplicaId _id;

    // An empty activation (no replica on this store when it activated) tries to open again at most this often when
    // requests or Raft messages reach it: the replica may appear under it (a split applied late on this store).
    private const long ReopenIntervalMs = 250;

    private Task? _reopening;
    private long _nextReopenMs;

    // Raft messages that reached this activation while it was empty, delivered once the replica opens: a split's new
    // replica that campaigns at once sends its (pre-)vote to peers that may not have applied the split yet, and Raft
    // does not resend a vote before the candidate's election timeout. Small batches only, the newest few.
    private const int EarlyMessageBatches = 8;
    private const int EarlyMessageBytes = 16 * 1024;
    private readonly Queue<RaftMessageBatch> _earlyMessages = new();

    // Set once this activation destroyed its replica: nothing may open the rows being destroyed; CreateReplicaAsync
    // (the replica added back) clears it.
    private bool _destroyed;
    private ReplicaCore? _core;

    // The controller's create, destroy and orphan-destroy of this replica run one at a time. The grain is reentrant:
    // a destroy that ran while a create was writing or opening the replica's rows could otherwise find nothing to
    // close, remove the rows, and leave the replica the create then opened running with no directory entry, where
    // orphan cleanup (which reads the directory) never finds it (seen in the replica simulation's soak).
    private readonly SemaphoreSlim _adminGate = new(1, 1);

    // 1 while a tick handed to this activation's scheduler has not run yet (set by the driver's thread).
    private int _tickQueued;

    // Published for the driver's thread (see IDrivenReplica.HibernatingWith).
    private volatile IReadOnlyList<StoreId>? _hibernatingWith;

    public IReadOnlyList<StoreId>? HibernatingWith => _hibernatingWith;

    public long LastHeardFrom(StoreId store) => _driver.LastHeardFrom(store) ?? long.MinValue / 2;

    public string? SnapshotStagingDirectory => _store.SnapshotStagingDirectory;

    private StoreId[] OtherStores(ReplicaCore core)
    {
        var stores = new List<StoreId>(core.Descriptor.Peers.Length);
        foreach (var peer in core.Descriptor.Peers)
        {
            if (peer.Store != _id.Store)
            {
                stores.Add(peer.Store);
            }
        }

        return stores.ToArray();
    }

    // Operators' hot-key view (dashboard): keys of the requests this replica serves as leader.
    private readonly HotKeyTracker _hotKeys;

    public ShardReplicaGrain(LocalStore store, ClusterLayout layout, IOptions<ReplicaOptions> options, ILogger<ShardReplicaGrain> logger, ILoggerFactory loggers, ILocalSiloDetails silo, PeerWarningLimiter badBatches, LocalReplicaRegistry registry, ReplicaDriver driver, RaftTransport transport, HotKeyTracker hotKeys)
    {
        _hotKeys = hotKeys;
        _transport = transport;
        _registry = registry;
        _driver = driver;
        _badBatches = badBatches;
        _store = store;
        _layout = layout;
        _options = options.Value;
        _logger = logger;
        _loggers = loggers;
        _silo = silo;
    }

    public long NowMs => Environment.TickCount64;

    public long WallClockMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        if (!ReplicaId.TryParse(key, out _id))
        {
            throw new ArgumentException($"'{key}' is not a replica key (\"shard/store\").");
        }

        if (_id.Store != _store.Id)
        {
            // Placement pins replicas to their store; reaching this means a misconfigured cluster.
            throw new StoreUnavailableException(_id.Store, $"replica {_id} was routed to the silo of store {_store.Id}.");
        }

        try
        {
            await OpenCoreAsync().ConfigureAwait(true);
        }
        catch (ReplicaNotFoundException)
        {
            // This store holds no replica of the shard (never did, or it was moved away and destroyed). The activation
            // stays empty: requests are answered WrongShard, Raft messages dropped, until CreateReplicaAsync makes one.
            LogNoReplica(key);
        }
    }

    private async Task OpenCoreAsync()
    {
        string key = _id.ToGrainKey();
        var core = await ReplicaCore.OpenAsync(
            _store.Database,
            _id.Shard,
            _id.Store,
            _layout.BootstrapDescriptor(_id.Shard),
            _options,
            this,
            _loggers.CreateLogger<ReplicaCore>(),
            HashCode.Combine(key, Environment.TickCount64)).ConfigureAwait(true);
        _core = core;
        core.Failed += _ => DeactivateOnIdle();
        core.Split += OnSplit;
        core.Merged += OnMerged;
        core.HibernationChanged += sleeping => _hibernatingWith = sleeping ? OtherStores(core) : null;
        _registry.Add(_id.Shard, core.Load);
        PublishLoad();

        // The silo's replica driver ticks it (one clock for all replicas); nothing else keeps an idle replica's
        // activation alive, and a replica must run while it holds one, idle or not.
        DelayDeactivation(TimeSpan.MaxValue);
        _driver.Register(_id.Shard, this);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _driver.Unregister(_id.Shard, this);
        _core?.Close();
        if (_core is not null)
        {
            _registry.Remove(_id.Shard, _core.Load);
        }
        LogDeactivated(_id.ToGrainKey(), reason.Description);
        return Task.CompletedTask;
    }

    /// <summary>Opens the replica if this activation is still empty (it activated before its store held the replica).</summary>
    public Task StartAsync() => ReopenAsync(force: true);

    public async Task StartAfterSplitAsync(bool campaign)
    {
        await ReopenAsync(force: true).ConfigureAwait(true);
        if (campaign && _core is { } core)
        {
            await core.CampaignAfterSplitAsync().ConfigureAwait(true);
        }
    }

    /// <summary>
    /// Opens the replica under an empty activation if the store now holds it. A client or a peer can reach a split's
    /// new half on a store that has not applied the split yet; the activation made then is empty, and without this it
    /// would answer WrongShard and drop Raft messages until it happened to be deactivated (seen in CI: a new half
    /// served by two of its three replicas while clients were refused for 8 s).
    /// </summary>
    private Task ReopenAsync(bool force)
    {
        if (_core is not null || _destroyed)
        {
            return Task.CompletedTask;
        }

        if (_reopening is { IsCompleted: false } running)
        {
            return running;
        }

        long now = NowMs;
        if (!force && now < _nextReopenMs)
        {
            return Task.CompletedTask;
        }

        _nextReopenMs = now + ReopenIntervalMs;
        return _reopening = TryOpenAsync();
    }

    private async Task TryOpenAsync()
    {
        try
        {
            await OpenCoreAsync().ConfigureAwait(true);
            LogReopened(_id.ToGrainKey());
            while (_earlyMessages.TryDequeue(out var early))
            {
                await DeliverAsync(early).ConfigureAwait(true);
            }
        }
        catch (ReplicaNotFoundException)
        {
            // Still nothing here; the next request or message tries again.
        }
    }

    /// <summary>A Raft message reached an empty activation: try to open the replica, and log (not lose) a failure.</summary>
    private async Task ReopenForDeliveryAsync()
    {
        try
        {
            await ReopenAsync(force: false).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            LogReopenFailed(_id.ToGrainKey(), e);
        }
    }

    /// <summary>Serves a request that reached an empty activation: once more after a reopen attempt, else refused.</summary>
    private async Task<TResponse> ServeAfterReopenAsync<TResponse>(Func<ReplicaCore, Task<TResponse>> serve, Func<TResponse> refuse)
    {
        await ReopenAsync(force: false).ConfigureAwait(true);
        return _core is { } core ? await serve(core).ConfigureAwait(true) : refuse();
    }

    public Task<ReplicaStatus> GetStatusAsync() => Task.FromResult(_core is { } core ? core.GetStatus(_silo.SiloAddress.ToString()) : new ReplicaStatus
    {
        // No replica here: peer id 0 and no descriptor say so.
        Replica = _id,
        Role = ReplicaRole.Follower,
        Term = 0,
        CommitIndex = 0,
        AppliedIndex = 0,
        LastIndex = 0,
        FirstIndex = 0,
        Epoch = 0,
        SiloAddress = _silo.SiloAddress.ToString(),
    });

    public Task<WriteResponse> WriteAsync(WriteRequest request, CancellationToken cancellationToken = default)
    {
        if (_core is not { } core)
        {
            return ServeAfterReopenAsync(core => core.WriteAsync(request, cancellationToken), () => new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });
        }

        CountKey(core, request.Key);
        return core.WriteAsync(request, cancellationToken);
    }

    public Task<WriteResponse[]> WriteBatchAsync(WriteRequest[] requests, CancellationToken cancellationToken = default)
    {
        if (_core is not { } core)
        {
            return ServeAfterReopenAsync(core => core.WriteBatchAsync(requests, cancellationToken), () => NoReplicaAnswers(requests));
        }

        if (requests is not null)
        {
            foreach (var request in requests)
            {
                CountKey(core, request?.Key);
            }
        }

        return core.WriteBatchAsync(requests!, cancellationToken);
    }

    private void CountKey(ReplicaCore core, byte[]? key)
    {
        if (key is not null && core.IsLeader)
        {
            _hotKeys.Record(_id.Shard, key);
            core.Load.Keys.Record(key);
        }
    }

    private WriteResponse[] NoReplicaAnswers(WriteRequest[] requests)
    {
        var answers = new WriteResponse[requests?.Length ?? 0];
        for (int i = 0; i < answers.Length; i++)
        {
            answers[i] = new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail };
        }

        return answers;
    }

    public Task<ReadResponse> GetAsync(ReadRequest request, CancellationToken cancellationToken = default)
    {
        if (_core is not { } core)
        {
            return ServeAfterReopenAsync(core => core.GetAsync(request, cancellationToken), () => new ReadResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });
        }

        CountKey(core, request.Key);
        return core.GetAsync(request, cancellationToken);
    }

    public Task<ScanResponse> ScanAsync(ScanRequest request, CancellationToken cancellationToken = default) =>
        _core is { } core ? core.ScanAsync(request, cancellationToken) : ServeAfterReopenAsync(core => core.ScanAsync(request, cancellationToken), () => new ScanResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default) =>
        _core is { } core ? core.TxnAsync(request, cancellationToken) : ServeAfterReopenAsync(core => core.TxnAsync(request, cancellationToken), () => new TxnResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });

    public Task<NoKv.Abstractions.Locks.LockResponse> LockAsync(NoKv.Abstractions.Locks.LockRequest request, CancellationToken cancellationToken = default) =>
        _core is { } core ? core.LockAsync(request, cancellationToken) : ServeAfterReopenAsync(core => core.LockAsync(request, cancellationToken), () => new NoKv.Abstractions.Locks.LockResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });

    public Task<NoKv.Abstractions.Controller.TimestampResponse> TimestampsAsync(int count, CancellationToken cancellationToken = default) =>
        _core is { } core ? core.TimestampsAsync(count, cancellationToken) : ServeAfterReopenAsync(core => core.TimestampsAsync(count, cancellationToken), () => new NoKv.Abstractions.Controller.TimestampResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });

    public async Task<ReplicaAdminResult> CreateReplicaAsync(ShardDescriptor shard, ulong peerId)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (shard.Id != _id.Shard)
        {
            return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"replica {_id} cannot hold shard {shard.Id}");
        }

        return await UnderAdminGateAsync(() => CreateUnderGateAsync(shard, peerId)).ConfigureAwait(true);
    }

    private async Task<ReplicaAdminResult> UnderAdminGateAsync(Func<Task<ReplicaAdminResult>> operation)
    {
        await _adminGate.WaitAsync().ConfigureAwait(true);
        try
        {
            return await operation().ConfigureAwait(true);
        }
        finally
        {
            _adminGate.Release();
        }
    }

    private async Task<ReplicaAdminResult> CreateUnderGateAsync(ShardDescriptor shard, ulong peerId)
    {
        _destroyed = false;
        if (_reopening is { IsCompleted: false } reopening)
        {
            await reopening.ConfigureAwait(true);
        }

        if (_core is { } existing)
        {
            return existing.PeerId == peerId
                ? new ReplicaAdminResult(ReplicaAdminOutcome.AlreadyDone)
                : new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {_id.Store} already holds peer {existing.PeerId} of shard {shard.Id}");
        }

        bool created;
        try
        {
            created = await ReplicaDirectory.CreateAsync(_store.Database, shard, _id.Store, peerId).ConfigureAwait(true);
        }
        catch (ReplicaConflictException e)
        {
            return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, e.Message);
        }

        // Through the reopen path: a message may have started opening the rows just written.
        await ReopenAsync(force: true).ConfigureAwait(true);
        if (_core is null)
        {
            return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"peer {peerId} of shard {shard.Id} was written on store {_id.Store} but does not open");
        }

        LogCreated(_id.ToGrainKey(), peerId, created);
        return new ReplicaAdminResult(created ? ReplicaAdminOutcome.Done : ReplicaAdminOutcome.AlreadyDone);
    }

    public Task<WriteResponse> ChangeMembershipAsync(MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken = default) =>
        _core is { } core
            ? ReplicaAdministration.ChangeMembershipAsync(core, kind, peer, cancellationToken)
            : Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });

    public Task<WriteResponse> TransferLeaderAsync(StoreId store) =>
        _core is { } core
            ? ReplicaAdministration.TransferLeadershipAsync(core, store)
            : Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });

    public async Task<ReplicaAdminResult> DestroyReplicaAsync(ulong peerId)
    {
        return await UnderAdminGateAsync(() => DestroyUnderGateAsync(peerId)).ConfigureAwait(true);
    }

    private async Task<ReplicaAdminResult> DestroyUnderGateAsync(ulong peerId)
    {
        if (_reopening is { IsCompleted: false } reopening)
        {
            await reopening.ConfigureAwait(true);
        }

        if (_core is { } core)
        {
            if (ReplicaAdministration.DestroyRefusal(core, _store.Database, peerId) is { } refusal)
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {_id.Store}: {refusal}");
            }

            _destroyed = true;
            _earlyMessages.Clear();
            _driver.Unregister(_id.Shard, this);
            DelayDeactivation(TimeSpan.Zero);
            core.Close();
            _registry.Remove(_id.Shard, core.Load);
            _core = null;

            // A pump that was mid-Ready when the core closed finishes its engine write first; destroying under it
            // could let that write recreate rows of the destroyed peer.
            for (int i = 0; i < 500 && core.IsPumping; i++)
            {
                await Task.Delay(10).ConfigureAwait(true);
            }
        }

        _destroyed = true;
        _earlyMessages.Clear();
        bool destroyed = await ReplicaDirectory.DestroyAsync(_store.Database, _id.Shard, peerId).ConfigureAwait(true);
        LogDestroyed(_id.ToGrainKey(), peerId, destroyed);
        return new ReplicaAdminResult(destroyed ? ReplicaAdminOutcome.Done : ReplicaAdminOutcome.AlreadyDone);
    }

    public async Task<ReplicaAdminResult> DestroyOrphanAsync(ulong peerId, long mapConfVersion)
    {
        return await UnderAdminGateAsync(() => DestroyOrphanUnderGateAsync(peerId, mapConfVersion)).ConfigureAwait(true);
    }

    private async Task<ReplicaAdminResult> DestroyOrphanUnderGateAsync(ulong peerId, long mapConfVersion)
    {
        if (_reopening is { IsCompleted: false } reopening)
        {
            await reopening.ConfigureAwait(true);
        }

        if (_core is { } core)
        {
            if (ReplicaAdministration.OrphanRefusal(core, peerId, mapConfVersion) is { } refusal)
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {_id.Store}: {refusal}");
            }
        }

        var result = await DestroyUnderGateAsync(peerId).ConfigureAwait(true);
        if (result.Outcome == ReplicaAdminOutcome.Done)
        {
            LogOrphanDestroyed(_id.ToGrainKey(), peerId, mapConfVersion);
        }

        return result;
    }

    public async Task<ReplicaAdminResult> DestroyMergedAwayOrphanAsync(ulong peerId, long mapEpoch)
    {
        return await UnderAdminGateAsync(() => DestroyMergedAwayOrphanUnderGateAsync(peerId, mapEpoch)).ConfigureAwait(true);
    }

    private async Task<ReplicaAdminResult> DestroyMergedAwayOrphanUnderGateAsync(ulong peerId, long mapEpoch)
    {
        if (_reopening is { IsCompleted: false } reopening)
        {
            await reopening.ConfigureAwait(true);
        }

        string? refusal = _core is { } core
            ? ReplicaAdministration.MergedAwayRefusal(core.PeerId, core.Descriptor, peerId, mapEpoch)
            : ReplicaAdministration.MergedAwayRefusal(_store.Database, _id.Shard, peerId, mapEpoch);
        if (refusal is not null)
        {
            return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {_id.Store}: {refusal}");
        }

        var result = await DestroyUnderGateAsync(peerId).ConfigureAwait(true);
        if (result.Outcome == ReplicaAdminOutcome.Done)
        {
            LogMergedAwayOrphanDestroyed(_id.ToGrainKey(), peerId, mapEpoch);
        }

        return result;
    }

    private string NoReplicaDetail => $"store {_id.Store} holds no replica of shard {_id.Shard}";

    public Task<WriteResponse> SplitAsync(SplitShardRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_core is not { } core)
        {
            return Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });
        }

        if (request.Shard != _id.Shard)
        {
            return Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, CurrentEpoch = core.Descriptor.Epoch, Detail = $"replica {_id} is not of shard {request.Shard}" });
        }

        return core.SplitAsync(request.ExpectedEpoch, request.SplitKey, request.NewShard, request.NewPeers);
    }

    public Task<byte[]?> GetMiddleKeyAsync() => Task.FromResult(_core?.MiddleKey());

    public Task<WriteResponse> MergeAsync(MergeShardRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _core is { } core
            ? ReplicaAdministration.MergeAsync(core, request)
            : Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = NoReplicaDetail });
    }

    public Task DeliverAsync(RaftMessageBatch batch)
    {
        if (_core is null)
        {
            // No replica here (yet, or any more): the replica may have appeared since this activation was made. The
            // newest few small batches wait for it to open; the rest are dropped (Raft sends again).
            if (!_destroyed && batch.Shard == _id.Shard && batch.To == _id.Store && batch.Payload.Length <= EarlyMessageBytes)
            {
                if (_earlyMessages.Count == EarlyMessageBatches)
                {
                    _earlyMessages.Dequeue();
                }

                _earlyMessages.Enqueue(batch);
            }

            return ReopenAsync(force: false);
        }

        if (batch.Shard != _id.Shard || batch.To != _id.Store)
        {
            LogMisrouted(_id.ToGrainKey(), batch.Shard.Value, batch.To.Value);
            return Task.CompletedTask;
        }

        Message[] messages;
        try
        {
            messages = RaftMessageCodec.ReadAll(batch.Payload, batch.Count);
        }
        catch (FormatException e)
        {
            // Refused whole (docs/format-raft-wire.md): Raft retransmits, and a peer on a newer wire version keeps
            // sending what this build cannot read, so the warning is rate-limited per peer store.
            if (_badBatches.ShouldWarn(batch.From.Value, out long suppressed))
            {
                LogBadBatch(_id.ToGrainKey(), batch.From.Value, e.Message, suppressed);
            }

            return Task.CompletedTask;
        }

        return _core.DeliverAsync(batch.From, messages);
    }

    public bool IsStoreAvailable(StoreId store) => _driver.IsStoreUp(store);

    public bool IsStoreSlow(StoreId store) => store == _store.Id ? _store.IsDiskSlow : _driver.IsStoreDiskSlow(store);

    /// <summary>Through this silo's oracle front-end, which coalesces concurrent callers (the grain is reentrant, so the core keeps running meanwhile).</summary>
    public async Task<long> GetOracleTimestampsAsync(int count)
    {
        var batch = await GrainFactory.GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster).GetTimestampsAsync(count).ConfigureAwait(true);
        return batch.First;
    }

    public long StatusCollectionPoint => _registry.StatusCollectionPoint;

    public int ClusterFormatLevel => _registry.ClusterFormatLevel;

    /// <summary>
    /// Check-status at the leader of the shard that holds <paramref name="primaryKey"/> by the silo's shard map, for a
    /// GC round's old lock: tries the shard's replicas, following leader hints, a few times within the request timeout.
    /// Null when none answered (the lock stays for the next round). The grain is reentrant, so the core keeps running
    /// while this waits, and the call waits on nothing that could wait back on this replica.
    /// </summary>
    public async Task<TxnResponse?> CheckTransactionStatusAsync(byte[] primaryKey, long startTs)
    {
        var map = await GrainFactory.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync().ConfigureAwait(true);
        var shard = map.FindShard(primaryKey);
        var candidates = new Queue<StoreId>(shard.Replicas);
        for (int attempt = 0; attempt < 6 && candidates.TryDequeue(out var store); attempt++)
        {
            var request = new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.CheckStatus, StartTs = startTs, PrimaryKey = primaryKey, RollbackIfAbsent = true };
            TxnResponse response;
            try
            {
                response = await GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaId(shard.Id, store).ToGrainKey()).TxnAsync(request).WaitAsync(_options.RequestTimeout).ConfigureAwait(true);
            }
            catch (TimeoutException)
            {
                continue;
            }

            if (response.Code == NoKvErrorCode.Ok)
            {
                return response;
            }

            if (response.Code == NoKvErrorCode.NotLeader && response.LeaderHint is { } hint)
            {
                candidates = new Queue<StoreId>([hint, .. candidates]);
            }
        }

        return null;
    }

    /// <summary>
    /// Hands the messages to the silo's transport, which sends them with every other shard's messages for that store
    /// in one call (see <see cref="RaftTransport"/>); never awaited (see the class remarks).
    /// </summary>
    public bool Send(PeerDescriptor to, ReadOnlySpan<Message> messages) => _transport.Send(_id.Shard, to.Store, messages);

    /// <summary>Called on the transport's thread: queues the messages for a turn of this activation.</summary>
    public void ScheduleDelivery(StoreId from, Message[] messages)
    {
        _deliveries.Enqueue((from, messages));
        if (Interlocked.Exchange(ref _deliveryQueued, 1) == 0)
        {
            GrainContext.Scheduler.QueueAction(static state => ((ShardReplicaGrain)state).RunDeliveries(), this);
        }
    }

    private void RunDeliveries()
    {
        Volatile.Write(ref _deliveryQueued, 0);
        while (_deliveries.TryDequeue(out var delivery))
        {
            if (_core is not { } core)
            {
                _ = ReopenForDeliveryAsync();
                continue;
            }

            // The first delivery starts the pump; later ones only queue into it (it drains them before its next Ready).
            var pumped = core.DeliverAsync(delivery.From, delivery.Messages);
            if (!pumped.IsCompletedSuccessfully)
            {
                _ = ObservePumpAsync(pumped);
            }
        }
    }

    /// <summary>Called on the driver's thread: hands the tick to this activation's scheduler, as a timer turn would.</summary>
    public void ScheduleTick()
    {
        if (Interlocked.Exchange(ref _tickQueued, 1) == 1)
        {
            // The last tick has not run yet (the activation is busy): the Raft clock slows rather than piling up turns.
            return;
        }

        GrainContext.Scheduler.QueueAction(static state => ((ShardReplicaGrain)state).RunTick(), this);
    }

    private void RunTick()
    {
        Volatile.Write(ref _tickQueued, 0);
        if (_core is not { } core)
        {
            return;
        }

        PublishLoad();
        var tick = core.TickAsync();
        if (!tick.IsCompletedSuccessfully)
        {
            _ = ObservePumpAsync(tick);
        }
    }

    private async Task ObservePumpAsync(Task tick)
    {
        try
        {
            await tick;
        }
        catch (Exception e)
        {
            // The pump handles its own failures (the core fails and is reopened); anything else is logged, and the
            // next tick runs as usual.
            LogPumpFailed(_id.ToGrainKey(), e);
        }
    }

    /// <summary>
    /// A split applied here created the new shard's replica on this store: activate it now, so it starts ticking and
    /// campaigning instead of waiting for a message (the right half must elect a leader before anyone can reach it).
    /// </summary>
    private void OnSplit(ShardDescriptor left, ShardDescriptor right)
    {
        var key = right.ReplicaOn(_id.Store).ToGrainKey();
        _ = StartSplitReplicaAsync(GrainFactory.GetGrain<IShardReplicaGrain>(key), key, campaign: _core?.IsLeader == true);
    }

    /// <summary>
    /// A merge applied here removed the source's replica on this store from the engine: close that replica's activation
    /// (it destroys whatever its last writes left behind).
    /// </summary>
    private void OnMerged(ShardDescriptor target, ShardId source, ulong peer)
    {
        var key = new ReplicaId(source, _id.Store).ToGrainKey();
        _ = DestroyMergedSourceAsync(GrainFactory.GetGrain<IShardReplicaGrain>(key), key, peer);
    }

    private async Task DestroyMergedSourceAsync(IShardReplicaGrain replica, string key, ulong peer)
    {
        try
        {
            await replica.DestroyReplicaAsync(peer);
        }
        catch (Exception e)
        {
            // The tombstone is written: the replica never opens again; the controller's merge cleanup retries the close.
            LogMergedCloseFailed(key, e.Message);
        }
    }

    private async Task StartSplitReplicaAsync(IShardReplicaGrain replica, string key, bool campaign)
    {
        try
        {
            await replica.StartAfterSplitAsync(campaign);
        }
        catch (Exception e)
        {
            // It activates on the first message from its peers anyway; a failure here only delays that.
            LogSplitStartFailed(key, e.Message);
        }
    }

    private void PublishLoad()
    {
        if (_core is { } core)
        {
            core.Load.Publish(core.IsLeader, (long)core.AppliedIndex, core.Descriptor.Epoch, core.Descriptor.ConfVersion, core.Descriptor.Range);
        }
    }
}
