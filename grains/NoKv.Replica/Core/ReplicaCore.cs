using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Diagnostics;
using NoKv.Replica.Layout;
using NoKv.Replica.Log;
using NoKv.Replica.Snapshots;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;
using NoKv.Storage;

namespace NoKv.Replica.Core;

/// <summary>
/// One replica of one shard, free of Orleans: the group's Raft node, its log in the store's engine, the shard's
/// state machine, the Ready loop, client waiters, snapshots, session expiry, log compaction and leader balance.
/// The replica grain adapts it (activation, timer, transport); the replica simulator drives the very same code.
/// Split by concern: this file holds opening and the client-facing calls; <c>ReplicaCore.Ready.cs</c> the Raft loop;
/// <c>ReplicaCore.Waiters.cs</c> client waiters and their deadlines; <c>ReplicaCore.Policy.cs</c> what a replica
/// decides on its own on a tick (compaction, session expiry, leader balance).
/// </summary>
/// <remarks>
/// Threading: not thread-safe. Every member must be called from one logical thread at a time (the grain's
/// scheduler, the simulator's loop). Calls may interleave at awaits: input (messages, ticks, proposals, reads)
/// only queues and then runs <see cref="PumpAsync"/>, which returns at once if a pump is already running; the
/// running pump drains what was queued. The Raft node is touched only by the pump, which respects RawNode's rule
/// that nothing but reads happen between GetReady and Advance.
/// </remarks>
public sealed partial class ReplicaCore
{
    private readonly Database _db;
    private readonly IReplicaHost _host;
    private readonly ReplicaOptions _options;
    private readonly ILogger _logger;
    private readonly KvLimits _limits;
    private readonly string _name;
    private readonly StoreId _store;
    private readonly ShardStateMachine _stateMachine;
    private readonly RaftLogStore _log;
    private readonly RawNode _node;

    // The core's own randomness (campaign delays after a silent leader), seeded so a simulation replays exactly.
    private readonly Random _random;

    private ReplicaCore(Database db, IReplicaHost host, ReplicaOptions options, ILogger logger, StoreId store, ShardStateMachine stateMachine, RaftLogStore log, int randomSeed, SnapshotStaging? staging)
    {
        _db = db;
        _host = host;
        _options = options;
        _logger = logger;
        _store = store;
        _stateMachine = stateMachine;
        _log = log;
        _limits = new KvLimits(options.MaxKeyBytes, options.MaxValueBytes);
        _name = $"{stateMachine.Descriptor.Id}/{store}#{stateMachine.PeerId}";
        _tsSession = TimestampSession(randomSeed);
        _random = new Random(randomSeed ^ 0x4862);
        _node = new RawNode(
            new RaftConfig
            {
                Id = stateMachine.PeerId,
                ElectionTick = options.ElectionTicks,
                HeartbeatTick = options.HeartbeatTicks,
                Applied = stateMachine.AppliedIndex,
                Random = new Random(randomSeed),
                PreVote = true,
                CheckQuorum = true,
                LeaseFreeTerm = log.LeaseFreeTerm,
                // Each read passes its own mode (ReplicaCore.ReadLease.cs); this default serves no caller.
                ReadOnlyOption = ReadOnlyOption.Safe,
                MaxSizePerMsg = 1 << 20,
                MaxInflightMsgs = 256,

                // A replica that comes back far behind (a new one after its snapshot) is caught up a few MiB per
                // round trip, not up to 256 x MaxSizePerMsg built and encoded in one turn of the leader.
                MaxInflightBytes = 4 << 20,
                MaxUncommittedEntriesSize = 64 << 20,
                SnapshotChunksInFlight = options.SnapshotChunksInFlight,

                // Safe here: Send encodes every message of a Ready before Advance and keeps no Message after it,
                // which is the condition under which the library may recycle the Append entry arrays.
                ReuseMessageEntryBuffers = true,

                // Under load the commit index rides on the next Append instead of an empty Append per commit round
                // (those were 22-34% of all Appends at write/c64-c16, each costing a follower Ready and a response);
                // measured 142-149 us of silo CPU per put at write/c64 against 163-184 without. Followers then apply
                // up to a heartbeat later when a shard goes idle; clients are answered by the leader, and follower
                // stale reads are bounded by their last contact with the leader either way.
                LazyCommitPropagation = true,

                // A snapshot arriving from the leader goes to a staging file chunk by chunk (not an array of its size).
                SnapshotSinkFactory = staging is null ? null : (metadata, _) => staging.CreateSink($"{stateMachine.Descriptor.Id}-{stateMachine.PeerId}", metadata),
            },
            log);
    }

    /// <summary>"shard/store#peer", for logs.</summary>
    public string Name => _name;

    /// <summary>This replica's Raft peer id.</summary>
    public ulong PeerId => _stateMachine.PeerId;

    /// <summary>The shard as of the applied index (replicated state).</summary>
    public ShardDescriptor Descriptor => _stateMachine.Descriptor;

    public bool IsLeader => _node.IsLeader;

    public ulong Term => _node.Term;

    public ulong CommitIndex => _node.CommitIndex;

    public ulong AppliedIndex => _stateMachine.AppliedIndex;

    public ulong LastIndex => _log.LastIndex();

    public ulong FirstIndex => _log.FirstIndex();

    /// <summary>The membership the Raft node currently runs with.</summary>
    public ConfState ConfState => _node.ConfState;

    /// <summary>True once the replica failed (a storage error, a broken invariant) and must be reopened from disk.</summary>
    public bool HasFailed => _failed;

    /// <summary>Why applying stopped, when a committed entry could not be applied by this build (null while healthy).</summary>
    public string? ApplyHaltReason => _applyHalt;

    /// <summary>Raised once when the replica fails; the host discards it and reopens it from disk.</summary>
    public event Action<Exception>? Failed;

    /// <summary>
    /// Opens store <paramref name="store"/>'s replica of shard <paramref name="shard"/> from the engine. A replica that
    /// already exists resumes from its persisted state (peer id, descriptor and membership as of its applied index);
    /// the bootstrap descriptor is only used to create a replica that has never been written.
    /// </summary>
    /// <exception cref="ReplicaNotFoundException">The store holds no replica of the shard and the bootstrap names none.</exception>
    /// <exception cref="InvalidDataException">The persisted state cannot be read.</exception>
    public static async Task<ReplicaCore> OpenAsync(Database db, ShardId shard, StoreId store, ShardDescriptor? bootstrap, ReplicaOptions options, IReplicaHost host, ILogger logger, int randomSeed)
    {
        var state = await LoadOrBootstrapAsync(db, shard, store, bootstrap).ConfigureAwait(true);
        var staging = host.SnapshotStagingDirectory is { } stagingDirectory ? new SnapshotStaging(stagingDirectory) : null;
        var stateMachine = new ShardStateMachine(db, state)
        {
            UniformWriteCompletion = host.UniformWriteCompletion,
            ExportSnapshotsInline = host.ExportSnapshotsInline,
            Staging = staging,
        };
        // An uninitialized replica (created empty for a peer being added) starts with no membership at all: it
        // cannot campaign or count in a quorum until the leader's snapshot tells it the group it joined.
        bool initialized = state.Descriptor.Peer(state.PeerId) is not null;
        string name = $"{shard}/{store}";
        var log = RaftLogStore.Load(db, shard, initialized ? ConfStates.Of(state.Descriptor) : new ConfState([], []), () =>
        {
            var snapshot = stateMachine.CreateSnapshotForRaft();
            ReplicaCoreLog.SnapshotExported(logger, name, snapshot.Metadata.Index, snapshot.Size, stateMachine.LastExportMs);
            return snapshot;
        });
        if (stateMachine.AppliedIndex < log.FirstIndex() - 1)
        {
            // A crash between dropping the log for a snapshot and installing it: the state machine no longer
            // matches any log position. Start it from empty; the leader resends entries or a snapshot.
            ReplicaCoreLog.StateMachineReset(logger, $"{shard}/{store}", stateMachine.AppliedIndex, log.FirstIndex() - 1);
            await stateMachine.ResetAsync().ConfigureAwait(true);
            var batch = new WriteBatch();
            log.StageSnapshot(batch, 0, 0);
            var hs = log.HardState;
            log.StageHardState(batch, hs with { Commit = 0 });
            await db.WriteAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
            log.CommitSnapshot(0, 0);
            log.CommitHardState(hs with { Commit = 0 });
        }

        var core = new ReplicaCore(db, host, options, logger, store, stateMachine, log, randomSeed, staging);
        ReplicaCoreLog.Opened(logger, core._name, stateMachine.AppliedIndex, log.LastIndex(), log.HardState.Term, stateMachine.Descriptor.ToString());
        return core;
    }

    private static async Task<ReplicaState> LoadOrBootstrapAsync(Database db, ShardId shard, StoreId store, ShardDescriptor? bootstrap)
    {
        if (db.Get(KeySpace.ReplicaStateKey(shard)) is { } stored)
        {
            var state = ReplicaStateCodec.Decode(stored);
            if (state.PeerId <= ReplicaDirectory.Tombstone(db, shard))
            {
                // A replica whose range a merge took over (or that was destroyed) left a row behind in its last writes.
                throw new ReplicaNotFoundException(shard, store);
            }

            if (state.Descriptor.Id != shard || state.Descriptor.Peer(state.PeerId) is { } self && self.Store != store)
            {
                throw new InvalidDataException($"Replica state of shard {shard} on store {store} names {state.Descriptor} with peer {state.PeerId}, which is not this store's.");
            }

            return state;
        }

        if (bootstrap is null || bootstrap.Id != shard || bootstrap.PeerOn(store) is not { } peer || peer.PeerId <= ReplicaDirectory.Tombstone(db, shard))
        {
            // No bootstrap peer here, or the bootstrap peer was removed from the shard and destroyed on this store:
            // it must never come back from the layout.
            throw new ReplicaNotFoundException(shard, store);
        }

        if (ReplicaDirectory.HasGroupRows(db, shard))
        {
            // Raft state without a replica state row was written by an older format; starting a new peer over
            // it could reuse a vote or log that belongs to another incarnation.
            throw new InvalidDataException($"Store {store} holds Raft state for shard {shard} but no replica state: written by an older NoKV format.");
        }

        var created = new ReplicaState(peer.PeerId, bootstrap);
        var batch = new WriteBatch();
        batch.Put(KeySpace.ReplicaStateKey(shard), ReplicaStateCodec.Encode(created));
        await db.WriteAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
        return created;
    }

    public ReplicaStatus GetStatus(string siloAddress) => new()
    {
        Replica = new ReplicaId(Descriptor.Id, _store),
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
        Epoch = Descriptor.Epoch,
        SiloAddress = siloAddress,
        PeerId = PeerId,
        Descriptor = Descriptor,
        ApplyHalt = _applyHalt ?? MergeWait,
        MergingInto = _stateMachine.Merging?.Target,
        MergePrepareIndex = (long)(_stateMachine.Merging?.PrepareIndex ?? 0),
        MergePrepareTerm = (long)(_stateMachine.Merging?.PrepareTerm ?? 0),
        Uninitialized = !IsInitialized,
        SnapshotBytesReceived = (long)_node.IncomingSnapshotBytes,
    };

    public async Task<WriteResponse> WriteAsync(WriteRequest request, CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        var activity = StartRequestActivity("nokv.replica.write", RequestKind.Write);
        var rejection = CheckServing() ?? CheckRouting(request.Shard, request.Epoch, request.Key) ?? CheckLimits(request) ?? CheckFence(request);
        if (rejection is { } code)
        {
            return Answered(RequestKind.Write, started, activity, new WriteResponse { Code = code.Code, CurrentEpoch = Descriptor.Epoch, Detail = code.Detail, LeaderHint = LeaderHint(), CurrentShards = RoutingFor(code.Code) });
        }

        if (!_node.IsLeader)
        {
            return Answered(RequestKind.Write, started, activity, new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch, CurrentShards = SelfDescriptor() });
        }

        // A plain write never waits on the oracle for long (docs/transactions.md, "Plain writes without the oracle"):
        // without a block in time it is proposed unanchored, or, stamped past the block, acknowledged once the shard is
        // marked unanchored.
        bool primed = await TryPrimeForPlainWriteAsync().ConfigureAwait(true);
        var waiter = primed
            ? new ProposalWaiter(EncodeWrite(request), Deadline()) { Stamped = true, StampedKeys = [request.Key] }
            : new ProposalWaiter(EncodeWrite(request), Deadline()) { Unanchored = true };
        var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
        if (response.Code == NoKvErrorCode.Ok && !primed)
        {
            UnanchoredWrites++;
            UnprimedWrites++;
        }
        else if (response.Code == NoKvErrorCode.Ok
            && await WaitStampIssuedAsync(waiter.StampBound, bounded: true).ConfigureAwait(true) is not null
            && await UnanchorBeforeAcknowledgingAsync(cancellationToken).ConfigureAwait(true) is { } unmarked)
        {
            response = new WriteResponse { Code = unmarked.Code, Detail = unmarked.Detail, CurrentEpoch = Descriptor.Epoch };
        }

        return Answered(RequestKind.Write, started, activity, response, request.Key.Length + (request.Value?.Length ?? 0));
    }

    public async Task<ReadResponse> GetAsync(ReadRequest request, CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        var activity = StartRequestActivity("nokv.replica.get", RequestKind.Get);
        var rejection = CheckServing() ?? CheckRouting(request.Shard, request.Epoch, request.Key)
            ?? (_limits.CheckKey(request.Key) is { } e ? (e.Code, e.Message) : null);
        if (rejection is { } r)
        {
            return Answered(RequestKind.Get, started, activity, new ReadResponse { Code = r.Code, CurrentEpoch = Descriptor.Epoch, Detail = r.Detail, LeaderHint = LeaderHint(), CurrentShards = RoutingFor(r.Code) });
        }

        var ready = await WaitReadableAsync(request.Consistency, request.MaxStaleness, cancellationToken).ConfigureAwait(true);
        if (ready != NoKvErrorCode.Ok)
        {
            return Answered(RequestKind.Get, started, activity, new ReadResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch, CurrentShards = RoutingFor(ready) });
        }

        if (Descriptor.Epoch != request.Epoch || _stateMachine.Merging is not null)
        {
            // A split (or merge) applied while the read waited: the key may now belong to another group, whose
            // writes this replica does not order; the client routes again.
            return Answered(RequestKind.Get, started, activity, new ReadResponse { Code = NoKvErrorCode.WrongShard, CurrentEpoch = Descriptor.Epoch, Detail = $"shard {Descriptor.Id} changed to epoch {Descriptor.Epoch} during the read", CurrentShards = RoutingDescriptors() });
        }

        long now = _host.WallClockMs;
        var (code, value, expiresAt, held) = _stateMachine.ReadWithExpiry(request.Key, now);
        return Answered(RequestKind.Get, started, activity, new ReadResponse { Code = code, Value = value, ExpiresAtMs = expiresAt, ServedAtMs = now, Lock = held, CurrentEpoch = Descriptor.Epoch });
    }

    public async Task<ScanResponse> ScanAsync(ScanRequest request, CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        var activity = StartRequestActivity("nokv.replica.scan", RequestKind.Scan);
        var shard = Descriptor;
        var rejection = CheckServing();
        if (rejection is null && (request.Shard != shard.Id || request.Epoch != shard.Epoch || !shard.Range.Overlaps(request.Start, request.End) || !shard.Range.Contains(request.Start) && request.Start.AsSpan().SequenceCompareTo(shard.Range.Start) >= 0))
        {
            rejection = (NoKvErrorCode.WrongShard, $"scan from {KeyFormatter.Format(request.Start)} does not start in shard {shard.Id} {shard.Range} epoch {shard.Epoch}");
        }
        else if (rejection is null && _limits.CheckRange(request.Start, request.End, request.Limit) is { } e)
        {
            rejection = (e.Code, e.Message);
        }

        if (rejection is { } r)
        {
            return Answered(RequestKind.Scan, started, activity, new ScanResponse { Code = r.Code, CurrentEpoch = shard.Epoch, Detail = r.Detail, LeaderHint = LeaderHint(), CurrentShards = RoutingFor(r.Code) });
        }

        var ready = await WaitReadableAsync(request.Consistency, request.MaxStaleness, cancellationToken).ConfigureAwait(true);
        if (ready != NoKvErrorCode.Ok)
        {
            return Answered(RequestKind.Scan, started, activity, new ScanResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch });
        }

        if (Descriptor.Epoch != request.Epoch || _stateMachine.Merging is not null)
        {
            return Answered(RequestKind.Scan, started, activity, new ScanResponse { Code = NoKvErrorCode.WrongShard, CurrentEpoch = Descriptor.Epoch, Detail = $"shard {Descriptor.Id} changed to epoch {Descriptor.Epoch} during the scan", CurrentShards = RoutingDescriptors() });
        }

        var (code, entries, hasMore, held) = _stateMachine.Scan(request.Start, request.End, request.Limit, long.MaxValue, _host.WallClockMs);
        return Answered(RequestKind.Scan, started, activity, new ScanResponse { Code = code, Lock = held, Entries = entries, HasMore = hasMore, CurrentEpoch = Descriptor.Epoch, ShardEnd = Descriptor.Range.End });
    }

    /// <summary>
    /// Proposes one membership change (add a voter or learner, promote a learner, remove a peer) and waits until it
    /// is applied here, so the descriptor this replica persists already holds it. One change at a time (Raft's
    /// one-at-a-time rule): a change proposed while another is unapplied is refused with ProposalDropped.
    /// </summary>
    /// <exception cref="ArgumentException">The change contradicts the current membership (a second peer on one store,
    /// a reused peer id, removing an unknown peer, the last voter).</exception>
    public async Task<WriteResponse> ChangeMembershipAsync(ConfChangeType type, PeerDescriptor peer, CancellationToken cancellationToken = default)
    {
        ValidateMembershipChange(type, peer);
        if (CheckServing() is { } rejection)
        {
            return new WriteResponse { Code = rejection.Code, Detail = rejection.Detail, CurrentEpoch = Descriptor.Epoch, LeaderHint = LeaderHint() };
        }

        if (!_node.IsLeader)
        {
            return new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        var context = type == ConfChangeType.RemoveNode ? ReadOnlyMemory<byte>.Empty : PeerChangeContext.Encode(peer.Store);
        var waiter = new ProposalWaiter([], Deadline()) { Change = new ConfChange(type, peer.PeerId, context) };
        return await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
    }

    /// <summary>Queues a proposal for the pump and answers when it applies, times out, or is dropped.</summary>
    private async Task<WriteResponse> ProposeAndWaitAsync(ProposalWaiter waiter, CancellationToken cancellationToken)
    {
        if (CheckOpen() is { } gone)
        {
            return new WriteResponse { Code = gone.Code, Detail = gone.Detail, CurrentEpoch = Descriptor.Epoch };
        }

        long proposed = Stopwatch.GetTimestamp();
        using var activity = ReplicaTelemetry.Source.StartActivity("nokv.raft.propose", ActivityKind.Internal);
        _proposalInbox.Add(waiter);
        _proposalDeadlines.Enqueue(waiter);
        waiter.CancelWith(cancellationToken);
        try
        {
            await PumpAsync().ConfigureAwait(true);
            var (outcome, succeeded, index) = await waiter.Task.ConfigureAwait(true);
            ReplicaTelemetry.CommitDuration.Record(ReplicaTelemetry.Seconds(proposed, Stopwatch.GetTimestamp()), new KeyValuePair<string, object?>("result", NoKvErrorCodeNames.Of(outcome)));
            if (activity is not null)
            {
                // The span ends when the entry is committed and applied here (or the proposal failed).
                activity.SetTag("nokv.raft.index", (long)waiter.Index);
                activity.SetTag("nokv.raft.term", (long)waiter.Term);
                activity.SetTag("nokv.result", NoKvErrorCodeNames.Of(outcome));
            }

            if (outcome == NoKvErrorCode.Timeout)
            {
                return new WriteResponse { Code = NoKvErrorCode.Timeout, CurrentEpoch = Descriptor.Epoch, Detail = $"not applied within {_options.RequestTimeout.TotalMilliseconds:F0} ms" };
            }

            return new WriteResponse
            {
                Code = outcome,
                Succeeded = succeeded,
                Index = (long)index,
                CurrentEpoch = Descriptor.Epoch,
                LeaderHint = outcome == NoKvErrorCode.Ok ? null : LeaderHint(),
                Lock = waiter.Result as NoKv.Abstractions.Transactions.TxnLockInfo,
            };
        }
        finally
        {
            waiter.StopCancellation();
        }
    }

    private void ValidateMembershipChange(ConfChangeType type, PeerDescriptor peer)
    {
        var current = Descriptor;
        var existing = current.Peer(peer.PeerId);
        switch (type)
        {
            case ConfChangeType.AddNode or ConfChangeType.AddLearnerNode:
                if (peer.PeerId == 0 || !peer.Store.IsValid)
                {
                    throw new ArgumentException($"Peer {peer} is not valid: peer and store ids start at 1.", nameof(peer));
                }

                if (existing is { } member && member.Store != peer.Store)
                {
                    throw new ArgumentException($"Peer {peer.PeerId} of shard {current.Id} lives on store {member.Store}, not {peer.Store}.", nameof(peer));
                }

                if (existing is null && current.PeerOn(peer.Store) is { } other)
                {
                    throw new ArgumentException($"Store {peer.Store} already holds peer {other.PeerId} of shard {current.Id}; remove it first.", nameof(peer));
                }

                break;
            case ConfChangeType.RemoveNode:
                if (existing is null)
                {
                    throw new ArgumentException($"Peer {peer.PeerId} is not a member of shard {current.Id}.", nameof(peer));
                }

                if (existing.Value.Role == PeerRole.Voter && current.Replicas.Length == 1)
                {
                    throw new ArgumentException($"Peer {peer.PeerId} is the last voter of shard {current.Id}.", nameof(peer));
                }

                break;
            default:
                throw new ArgumentException($"Unknown membership change {type}.", nameof(type));
        }
    }

    /// <summary>
    /// Raft messages from the peer on store <paramref name="fromStore"/>; queued, then the pump runs. Messages for
    /// another peer id (an earlier or later incarnation of this replica) are dropped: Raft state is per peer.
    /// </summary>
    public Task DeliverAsync(StoreId fromStore, IReadOnlyList<Message> messages)
    {
        foreach (var message in messages)
        {
            if (message.To != PeerId)
            {
                ReplicaCoreLog.MisaddressedMessage(_logger, _name, message.To, message.From);
                continue;
            }

            if (message.Type == MessageType.Append && message.Index == 0 && !IsInitialized)
            {
                // Entries from the group's first index would be applied over a descriptor they were not written
                // for: an uninitialized replica starts only from a snapshot. Unanswered, the leader keeps probing
                // until it has compacted past index 1 (every replica compacts when a new peer joins) and sends one.
                continue;
            }

            _peerStores[message.From] = fromStore;
            _messageInbox.Add(message);
        }

        return PumpAsync();
    }

    /// <summary>One tick of the replica's clock (the host calls it every <see cref="ReplicaOptions.TickInterval"/>).</summary>
    public Task TickAsync()
    {
        // Before the hibernation check: a plain write waiting for the oracle must not wait longer because the group
        // sleeps (the write has not been proposed yet, so nothing woke it).
        ExpireOracleWaits(_host.NowMs);
        if (_hibernating && !TickWhileHibernating())
        {
            return Task.CompletedTask;
        }

        _mergeRetryDue = _mergeWaitIndex != 0;
        ExpireWaiters(_host.NowMs);
        MaybeExpireSessions();
        MaybeCollectGarbage();
        TickLocks();
        TickTimestampLease();
        _stateMachine.DropUntakenExport(2 * _options.ElectionTicks * (long)_options.TickInterval.TotalMilliseconds);
        TickHibernation();
        if (!_hibernating)
        {
            // Not the tick that put the group to sleep: that one would send the heartbeat the notices replace.
            _pendingTicks++;
        }

        return PumpAsync();
    }

    /// <summary>The transport found <paramref name="peer"/> unreachable after <see cref="IReplicaHost.Send"/> returned.</summary>
    public void ReportUnreachable(ulong peer) => _unreachableReports.Add(peer);

    /// <summary>The replica is going away (deactivation, shutdown): answers every waiting client.</summary>
    public void Close()
    {
        _closed = true;
        FailWaitingClients(NoKvErrorCode.StoreUnavailable);

        // Staging files of snapshots in flight both ways go now rather than at the next start-up.
        _node.ReleaseSnapshots();
        _stateMachine.DiscardExport();
    }

    /// <summary>
    /// Waits until a read may be served locally: linearizable reads need leadership, a confirmed read index
    /// and the state machine applied up to it; bounded-staleness reads need the state to be known recent: a
    /// leader's by its lease (check-quorum heard from a quorum within the bound), a follower's by recent contact
    /// with the leader and having applied everything it knows committed.
    /// </summary>
    private async Task<NoKvErrorCode> WaitReadableAsync(ReadConsistency consistency, TimeSpan maxStaleness, CancellationToken cancellationToken, ulong minIndex = 0)
    {
        if (consistency == ReadConsistency.BoundedStaleness)
        {
            long bound = (long)maxStaleness.TotalMilliseconds;
            if (_node.IsLeader)
            {
                // A leader cut off from its quorum keeps serving until check-quorum deposes it, which can take an
                // election timeout: only its last quorum contact bounds how stale it may be.
                long contact = QuorumContact();
                bool current = contact != 0 && _host.NowMs - contact <= bound;
                return current && _stateMachine.AppliedIndex >= _node.CommitIndex ? NoKvErrorCode.Ok : NoKvErrorCode.StaleReadUnavailable;
            }

            // Applied nothing yet: a replica created empty after a skipped split holds only stale rows of its range
            // until its snapshot arrives, while its commit index is still 0.
            bool fresh = _lastLeaderContact != 0 && _host.NowMs - _lastLeaderContact <= bound && _stateMachine.AppliedIndex > 0;
            return fresh && _stateMachine.AppliedIndex >= _node.CommitIndex ? NoKvErrorCode.Ok : NoKvErrorCode.StaleReadUnavailable;
        }

        if (!_node.IsLeader)
        {
            return NoKvErrorCode.NotLeader;
        }

        if (CheckOpen() is { } gone)
        {
            return gone.Code;
        }

        var waiter = new ReadWaiter(++_nextReadId, Deadline()) { MinIndex = minIndex };
        _readInbox.Add(waiter);
        _readDeadlines.Enqueue(waiter);
        waiter.CancelWith(cancellationToken);
        try
        {
            await PumpAsync().ConfigureAwait(true);
            return await waiter.Task.ConfigureAwait(true);
        }
        finally
        {
            waiter.StopCancellation();
        }
    }

    /// <summary>
    /// A closed or failed replica runs no pump and no ticks again, so a waiter registered now would never be answered
    /// nor expire. Checked where a request registers one, not only where it enters: a request that awaited the oracle
    /// or an anchor may resume after the replica closed underneath it.
    /// </summary>
    private (NoKvErrorCode Code, string? Detail)? CheckOpen() =>
        _closed ? (NoKvErrorCode.StoreUnavailable, $"replica {_name} is closed (deactivated, moved or shut down)")
        : _failed ? (NoKvErrorCode.StoreUnavailable, $"replica {_name} failed and is restarting")
        : null;

    /// <summary>When a request that starts now is answered Timeout (<see cref="ExpireWaiters"/>).</summary>
    private long Deadline() => _host.NowMs + (long)_options.RequestTimeout.TotalMilliseconds;

    private (NoKvErrorCode Code, string? Detail)? CheckServing()
    {
        if (CheckFailedOrHalted() is { } stopped)
        {
            return stopped;
        }

        if (_stateMachine.Merging is { } merging)
        {
            // Frozen until the target takes the range over (clients then find it there) or the merge rolls back.
            return (NoKvErrorCode.WrongShard, $"shard {Descriptor.Id} is {merging}");
        }

        if (_mergeWaitIndex != 0)
        {
            return (NoKvErrorCode.StoreUnavailable, $"replica {_name} waits to apply a merge: {_mergeWaitReason}");
        }

        return null;
    }

    private (NoKvErrorCode Code, string? Detail)? CheckFailedOrHalted()
    {
        if (CheckOpen() is { } gone)
        {
            return gone;
        }

        if (_applyHalt is not null)
        {
            return (NoKvErrorCode.StoreUnavailable, $"replica {_name} stopped applying: {_applyHalt}");
        }

        if (!IsInitialized)
        {
            return (NoKvErrorCode.StoreUnavailable, $"replica {_name} is new and waits for its first snapshot");
        }

        return null;
    }

    private (NoKvErrorCode Code, string? Detail)? CheckRouting(ShardId shard, long epoch, byte[] key)
    {
        if (key is null || key.Length == 0)
        {
            return (NoKvErrorCode.EmptyKey, "keys must not be empty");
        }

        var current = Descriptor;
        if (shard != current.Id || epoch != current.Epoch || !current.Range.Contains(key))
        {
            return (NoKvErrorCode.WrongShard, $"key {KeyFormatter.Format(key)} routed to shard {shard} epoch {epoch}; this replica is shard {current.Id} {current.Range} epoch {current.Epoch}");
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

        if (request.Kind is not (WriteKind.Put or WriteKind.Delete or WriteKind.CompareAndSwap or WriteKind.Expire) || (request.Kind == WriteKind.Put && request.Value is null))
        {
            return (NoKvErrorCode.InvalidRange, $"malformed {request.Kind} request");
        }

        return CheckExpiry(request);
    }

    /// <summary>Expiry fields that fit the write's kind (the state machine refuses the others too, changing nothing).</summary>
    private static (NoKvErrorCode Code, string? Detail)? CheckExpiry(WriteRequest request)
    {
        bool setsExpiry = request.TtlMs is not null || request.ExpiresAtMs != 0;
        string? problem = request switch
        {
            { ExpiresAtMs: < 0 } => "an expiry before 1970",
            { Kind: WriteKind.Delete } when setsExpiry || request.KeepExpiry || request.ExpireCondition != ExpireCondition.Always => "a delete with an expiry",
            { KeepExpiry: true } when setsExpiry || request.Kind == WriteKind.Expire => "keeping the expiry while setting one",
            { Kind: not WriteKind.Expire } when request.ExpireCondition != ExpireCondition.Always => "an expire condition on a write that is not an expiry change",
            { ExpireCondition: > ExpireCondition.IfEarlier } => $"unknown expire condition {(byte)request.ExpireCondition}",
            _ => null,
        };
        return problem is null ? null : (NoKvErrorCode.InvalidRange, $"malformed {request.Kind} request: {problem}");
    }

    /// <summary>The leader's store, if this replica knows it.</summary>
    private StoreId? LeaderHint()
    {
        ulong lead = _node.Lead;
        return lead == 0 ? null : StoreOf(lead);
    }

    private StoreId? StoreOf(ulong peer)
    {
        if (Descriptor.Peer(peer) is { } member)
        {
            return member.Store;
        }

        return _peerStores.TryGetValue(peer, out var store) ? store : null;
    }
}
