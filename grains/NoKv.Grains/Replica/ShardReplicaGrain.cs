using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Grains.Layout;
using NoKv.Grains.Raft;
using NoKv.Replica.Commands;
using NoKv.Replica.Log;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;
using NoKv.Grains.Store;
using NoKv.Raft;
using NoKv.Raft.Messages;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace NoKv.Grains.Replica;

/// <summary>
/// One replica of one shard: hosts the group's Raft node, its log in the silo's engine and the shard's
/// state machine. Split by concern: this file holds activation and the client-facing calls;
/// <c>ShardReplicaGrain.Raft.cs</c> the Raft loop.
/// <para>Concurrency: the grain is reentrant so that a client call waiting for its entry to commit does not
/// block the Raft messages that commit it. Orleans still runs one turn at a time, and the Raft node is only
/// touched inside the single pump loop (<see cref="PumpAsync"/>); other turns only enqueue work for it.
/// That respects RawNode's rule that nothing but reads happen between GetReady and Advance.</para>
/// <para>Calls to peers are one-way and never awaited, so no replica waits on a call that could wait on it.</para>
/// </summary>
[ShardReplicaPlacement]
[Reentrant]
public sealed partial class ShardReplicaGrain : Grain, IShardReplicaGrain
{
    private readonly LocalStore _store;
    private readonly ClusterLayout _layout;
    private readonly ReplicaOptions _options;
    private readonly ILogger<ShardReplicaGrain> _logger;
    private readonly ILocalSiloDetails _silo;
    private readonly Placement.StoreDirectory _stores;
    private readonly KvLimits _limits;

    private ReplicaId _id;
    private ShardDescriptor _shard = null!;
    private ShardStateMachine _stateMachine = null!;
    private RaftLogStore _log = null!;
    private RawNode _node = null!;
    private IGrainTimer? _timer;

    public ShardReplicaGrain(LocalStore store, ClusterLayout layout, IOptions<ReplicaOptions> options, ILogger<ShardReplicaGrain> logger, ILocalSiloDetails silo, Placement.StoreDirectory stores)
    {
        _stores = stores;
        _store = store;
        _layout = layout;
        _options = options.Value;
        _logger = logger;
        _silo = silo;
        _limits = new KvLimits(_options.MaxKeyBytes, _options.MaxValueBytes);
    }

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

        _shard = _layout.BootstrapMap.TryGetShard(_id.Shard)
            ?? throw new ArgumentException($"Shard {_id.Shard} does not exist.");
        if (!_shard.HasReplicaOn(_id.Store))
        {
            throw new ArgumentException($"Store {_id.Store} holds no replica of shard {_id.Shard}.");
        }

        var db = _store.Database;
        _stateMachine = new ShardStateMachine(db, _shard);
        var voters = new ulong[_shard.Replicas.Length];
        for (int i = 0; i < voters.Length; i++)
        {
            voters[i] = (ulong)_shard.Replicas[i].Value;
        }

        _log = RaftLogStore.Load(db, _shard.Id, new ConfState(voters), CreateSnapshot);
        if (_stateMachine.AppliedIndex < _log.FirstIndex() - 1)
        {
            // A crash between dropping the log for a snapshot and installing it: the state machine no longer
            // matches any log position. Start it from empty; the leader resends entries or a snapshot.
            LogStateMachineReset(_id.ToGrainKey(), _stateMachine.AppliedIndex, _log.FirstIndex() - 1);
            await _stateMachine.ResetAsync();
            var batch = new NoKv.Storage.WriteBatch();
            _log.StageSnapshot(batch, 0, 0);
            var hs = _log.HardState;
            _log.StageHardState(batch, hs with { Commit = 0 });
            await db.WriteAsync(batch, NoKv.Storage.WriteOptions.Synced);
            _log.CommitSnapshot(0, 0);
            _log.CommitHardState(hs with { Commit = 0 });
        }

        _node = new RawNode(
            new RaftConfig
            {
                Id = (ulong)_id.Store.Value,
                ElectionTick = _options.ElectionTicks,
                HeartbeatTick = _options.HeartbeatTicks,
                Applied = _stateMachine.AppliedIndex,
                Random = new Random(HashCode.Combine(key, Environment.TickCount64)),
                PreVote = true,
                CheckQuorum = true,
                ReadOnlyOption = _options.LeaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
                MaxSizePerMsg = 1 << 20,
                MaxInflightMsgs = 256,
                MaxUncommittedEntriesSize = 64 << 20,

                // Safe here: Send encodes every message of a Ready before Advance and keeps no Message after it,
                // which is the condition under which the library may recycle the Append entry arrays.
                ReuseMessageEntryBuffers = true,

                // Under load the commit index rides on the next Append instead of an empty Append per commit round
                // (those were 22-34% of all Appends at write/c64-c16, each costing a follower Ready and a response);
                // measured 142-149 us of silo CPU per put at write/c64 against 163-184 without. Followers then apply
                // up to a heartbeat later when a shard goes idle; clients are answered by the leader, and follower
                // stale reads are bounded by their last contact with the leader either way.
                LazyCommitPropagation = true,
            },
            _log);

        _timer = this.RegisterGrainTimer(
            static (grain, _) => grain.OnTickAsync(),
            this,
            new GrainTimerCreationOptions(_options.TickInterval, _options.TickInterval) { Interleave = true, KeepAlive = true });
        LogActivated(_id.ToGrainKey(), _stateMachine.AppliedIndex, _log.LastIndex(), _log.HardState.Term);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        FailWaitingClients(NoKvErrorCode.StoreUnavailable);
        LogDeactivated(_id.ToGrainKey(), reason.Description);
        return Task.CompletedTask;
    }

    public Task StartAsync() => Task.CompletedTask;

    public Task<ReplicaStatus> GetStatusAsync() => Task.FromResult(new ReplicaStatus
    {
        Replica = _id,
        Role = _node.Role switch
        {
            StateRole.Leader => ReplicaRole.Leader,
            StateRole.Candidate => ReplicaRole.Candidate,
            StateRole.PreCandidate => ReplicaRole.PreCandidate,
            _ => ReplicaRole.Follower,
        },
        Term = (long)_node.Term,
        Leader = LeaderHint(),
        CommitIndex = (long)_node.CommitIndex,
        AppliedIndex = (long)_stateMachine.AppliedIndex,
        LastIndex = (long)_log.LastIndex(),
        FirstIndex = (long)_log.FirstIndex(),
        Epoch = _shard.Epoch,
        SiloAddress = _silo.SiloAddress.ToString(),
    });

    public async Task<WriteResponse> WriteAsync(WriteRequest request, CancellationToken cancellationToken = default)
    {
        var rejection = CheckRouting(request.Shard, request.Epoch, request.Key)
            ?? CheckLimits(request);
        if (rejection is { } code)
        {
            return new WriteResponse { Code = code.Code, CurrentEpoch = _shard.Epoch, Detail = code.Detail, LeaderHint = LeaderHint() };
        }

        if (!_node.IsLeader)
        {
            return new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = _shard.Epoch };
        }

        var waiter = new ProposalWaiter(KvCommand.From(request, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Encode(), Deadline());
        _proposalInbox.Add(waiter);
        _proposalDeadlines.Enqueue(waiter);
        waiter.CancelWith(cancellationToken);
        try
        {
            await PumpAsync();
            var (outcome, succeeded, index) = await waiter.Task;
            if (outcome == NoKvErrorCode.Timeout)
            {
                return new WriteResponse { Code = NoKvErrorCode.Timeout, CurrentEpoch = _shard.Epoch, Detail = $"not applied within {_options.RequestTimeout.TotalMilliseconds:F0} ms" };
            }

            return new WriteResponse
            {
                Code = outcome,
                Succeeded = succeeded,
                Index = (long)index,
                CurrentEpoch = _shard.Epoch,
                LeaderHint = outcome == NoKvErrorCode.Ok ? null : LeaderHint(),
            };
        }
        finally
        {
            waiter.StopCancellation();
        }
    }

    public async Task<ReadResponse> GetAsync(ReadRequest request, CancellationToken cancellationToken = default)
    {
        var rejection = CheckRouting(request.Shard, request.Epoch, request.Key)
            ?? (_limits.CheckKey(request.Key) is { } e ? (e.Code, e.Message) : null);
        if (rejection is { } r)
        {
            return new ReadResponse { Code = r.Code, CurrentEpoch = _shard.Epoch, Detail = r.Detail, LeaderHint = LeaderHint() };
        }

        var ready = await WaitReadableAsync(request.Consistency, request.MaxStaleness, cancellationToken);
        if (ready != NoKvErrorCode.Ok)
        {
            return new ReadResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = _shard.Epoch };
        }

        return new ReadResponse { Code = NoKvErrorCode.Ok, Value = _stateMachine.Get(request.Key), CurrentEpoch = _shard.Epoch };
    }

    public async Task<ScanResponse> ScanAsync(ScanRequest request, CancellationToken cancellationToken = default)
    {
        (NoKvErrorCode Code, string? Detail)? rejection = null;
        if (request.Shard != _shard.Id || request.Epoch != _shard.Epoch || !_shard.Range.Overlaps(request.Start, request.End) || !_shard.Range.Contains(request.Start) && request.Start.AsSpan().SequenceCompareTo(_shard.Range.Start) >= 0)
        {
            rejection = (NoKvErrorCode.WrongShard, $"scan from {KeyFormatter.Format(request.Start)} does not start in shard {_shard.Id} {_shard.Range} epoch {_shard.Epoch}");
        }
        else if (_limits.CheckRange(request.Start, request.End, request.Limit) is { } e)
        {
            rejection = (e.Code, e.Message);
        }

        if (rejection is { } r)
        {
            return new ScanResponse { Code = r.Code, CurrentEpoch = _shard.Epoch, Detail = r.Detail, LeaderHint = LeaderHint() };
        }

        var ready = await WaitReadableAsync(request.Consistency, request.MaxStaleness, cancellationToken);
        if (ready != NoKvErrorCode.Ok)
        {
            return new ScanResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = _shard.Epoch };
        }

        var (entries, hasMore) = _stateMachine.Scan(request.Start, request.End, request.Limit);
        return new ScanResponse { Code = NoKvErrorCode.Ok, Entries = entries, HasMore = hasMore, CurrentEpoch = _shard.Epoch, ShardEnd = _shard.Range.End };
    }

    public async Task DeliverAsync(RaftMessageBatch batch)
    {
        if (batch.Shard != _shard.Id || batch.To != _id.Store)
        {
            LogMisrouted(_id.ToGrainKey(), batch.Shard.Value, batch.To.Value);
            return;
        }

        Message[] messages;
        try
        {
            messages = RaftMessageCodec.ReadAll(batch.Payload, batch.Count);
        }
        catch (FormatException e)
        {
            LogBadBatch(_id.ToGrainKey(), batch.From.Value, e);
            return;
        }

        _messageInbox.AddRange(messages);
        await PumpAsync();
    }

    /// <summary>
    /// Waits until a read may be served locally: linearizable reads need leadership, a confirmed read index
    /// and the state machine applied up to it; bounded-staleness reads need recent contact with the leader.
    /// </summary>
    private async Task<NoKvErrorCode> WaitReadableAsync(ReadConsistency consistency, TimeSpan maxStaleness, CancellationToken cancellationToken)
    {
        if (consistency == ReadConsistency.BoundedStaleness)
        {
            if (_node.IsLeader)
            {
                return NoKvErrorCode.Ok;
            }

            bool fresh = _lastLeaderContact != 0 && TimeSpan.FromMilliseconds(Environment.TickCount64 - _lastLeaderContact) <= maxStaleness;
            return fresh && _stateMachine.AppliedIndex >= _node.CommitIndex ? NoKvErrorCode.Ok : NoKvErrorCode.StaleReadUnavailable;
        }

        if (!_node.IsLeader)
        {
            return NoKvErrorCode.NotLeader;
        }

        var waiter = new ReadWaiter(++_nextReadId, Deadline());
        _readInbox.Add(waiter);
        _readDeadlines.Enqueue(waiter);
        waiter.CancelWith(cancellationToken);
        try
        {
            await PumpAsync();
            return await waiter.Task;
        }
        finally
        {
            waiter.StopCancellation();
        }
    }

    /// <summary>When a request that starts now is answered Timeout (<see cref="ExpireWaiters"/>).</summary>
    private long Deadline() => Environment.TickCount64 + (long)_options.RequestTimeout.TotalMilliseconds;

    private (NoKvErrorCode Code, string? Detail)? CheckRouting(ShardId shard, long epoch, byte[] key)
    {
        if (_failed)
        {
            return (NoKvErrorCode.StoreUnavailable, $"replica {_id} failed and is restarting");
        }

        if (key is null || key.Length == 0)
        {
            return (NoKvErrorCode.EmptyKey, "keys must not be empty");
        }

        if (shard != _shard.Id || epoch != _shard.Epoch || !_shard.Range.Contains(key))
        {
            return (NoKvErrorCode.WrongShard, $"key {KeyFormatter.Format(key)} routed to shard {shard} epoch {epoch}; this replica is shard {_shard.Id} {_shard.Range} epoch {_shard.Epoch}");
        }

        return null;
    }

    private (NoKvErrorCode Code, string? Detail)? CheckLimits(WriteRequest request)
    {
        var error = _limits.CheckKey(request.Key)
            ?? (request.Value is null ? null : _limits.CheckValue(request.Value))
            ?? (request.Expected is null ? null : _limits.CheckValue(request.Expected));
        if (error is not null)
        {
            return (error.Code, error.Message);
        }

        if (request.Kind is not (WriteKind.Put or WriteKind.Delete or WriteKind.CompareAndSwap) || (request.Kind == WriteKind.Put && request.Value is null))
        {
            return (NoKvErrorCode.InvalidRange, $"malformed {request.Kind} request");
        }

        return null;
    }

    private StoreId? LeaderHint()
    {
        ulong lead = _node?.Lead ?? 0;
        return lead == 0 ? null : new StoreId((int)lead);
    }
}
