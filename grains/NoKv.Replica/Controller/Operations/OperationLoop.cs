using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// The controller's operation loop, free of Orleans (the controller grain calls <see cref="RunOnceAsync"/> on a timer):
/// runs every operation in progress a little further (one runner per kind), then starts what the planner asks for
/// and marks drained decommissioning stores removed. Everything it knows is read from the controller group on each
/// round, so a new controller activation (or a second one) picks up exactly where the committed rows are.
/// Threading: one logical thread at a time.
/// </summary>
public sealed class OperationLoop
{
    private readonly ControllerGroupClient _group;
    private readonly IOperationRows _rows;
    private readonly ReplicaMoveRunner _moves;
    private readonly LeaderTransferRunner _transfers;
    private readonly MergeRunner _merges;
    private readonly Dictionary<long, string> _waiting = new();
    private readonly HashSet<OrphanReplica> _refusedOrphans = new();
    private List<OrphanReplica> _destroyed = new();
    private List<string> _rollbacks = new();

    public OperationLoop(ControllerGroupClient group, IReplicaAdmin replicas, ReplicaMoveOptions options, int maxInProgress)
    {
        _group = group;
        _rows = new ControllerOperationRows(group);
        _moves = new ReplicaMoveRunner(_rows, replicas, options, group.Membership);
        _transfers = new LeaderTransferRunner(_rows, replicas, options);
        _merges = new MergeRunner(_rows, replicas, options);
        MaxInProgress = maxInProgress;
        Replicas = replicas;
    }

    public int MaxInProgress { get; }

    /// <summary>
    /// The controller group's voters once that many stores are up (<see cref="OperationPlanner.ControllerGroupLargeVoters"/>,
    /// 5); <see cref="OperationPlanner.ControllerGroupVoters"/> (3) keeps it at three whatever the cluster's size (a
    /// simulation of re-replication alone uses this).
    /// </summary>
    public int ControllerGroupTarget { get; init; } = OperationPlanner.ControllerGroupLargeVoters;

    public IReplicaAdmin Replicas { get; }

    /// <summary>The merge runner (merges start through it and run in this loop).</summary>
    public MergeRunner Merges => _merges;

    /// <summary>Orphan replicas destroyed in the last round (<see cref="OrphanCollector"/>).</summary>
    public IReadOnlyList<OrphanReplica> LastDestroyed => _destroyed;

    /// <summary>Operations the last round turned to their rollback, each with its cause (for the operator's decision log).</summary>
    public IReadOnlyList<string> LastRollbacks => _rollbacks;

    /// <summary>At most this many orphans are destroyed per round.</summary>
    public int MaxOrphansPerRound { get; init; } = 8;

    /// <summary>What each operation in progress waits for, as of the last round (for status output).</summary>
    public IReadOnlyDictionary<long, string> Waiting => _waiting;

    /// <summary>One round; returns the number of steps recorded and operations started or finished, and errors met.</summary>
    /// <param name="held">The replicas each store reported holding on disk in its latest fresh heartbeat; orphans among
    /// them are destroyed (none when null).</param>
    public async Task<(int Changes, List<string> Errors)> RunOnceAsync(Func<StoreId, long>? usedBytes = null, CancellationToken cancellationToken = default, IReadOnlyDictionary<StoreId, HeldReplica[]>? held = null, Func<StoreId, bool>? isSlow = null)
    {
        _destroyed = new List<OrphanReplica>();
        _rollbacks = new List<string>();
        var errors = new List<string>();
        int changes = 0;
        var snapshot = await ControllerSnapshot.ReadAsync(_group, cancellationToken).ConfigureAwait(true);
        if (snapshot.Map is not { } map)
        {
            return (0, errors);
        }

        var live = new HashSet<long>();
        foreach (var op in snapshot.Operations)
        {
            live.Add(op.Id);
            try
            {
                OperationProgress progress;
                switch (op.Kind)
                {
                    case OperationKind.MoveReplica or OperationKind.ReReplicate:
                        progress = await _moves.RunAsync(op.Id, cancellationToken).ConfigureAwait(true);
                        break;
                    case OperationKind.TransferLeader:
                        progress = await _transfers.RunAsync(op.Id, cancellationToken).ConfigureAwait(true);
                        break;
                    case OperationKind.Merge:
                        progress = await _merges.RunAsync(op.Id, cancellationToken).ConfigureAwait(true);
                        break;
                    default:
                        // Splits run in the controller grain (SplitOperation), resumed from their rows there.
                        continue;
                }

                changes += progress.StepsRecorded + (progress.Finished ? 1 : 0);
                if (progress.RollingBack is { } rollback)
                {
                    _rollbacks.Add($"operation {op.Id}: {rollback}");
                }

                if (progress.Waiting is { } reason)
                {
                    _waiting[op.Id] = reason;
                }
                else
                {
                    _waiting.Remove(op.Id);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                errors.Add($"operation {op.Id} ({op.Kind} of shard {op.Shard}): {e.GetType().Name}: {e.Message}");
            }
        }

        foreach (var id in _waiting.Keys.ToList())
        {
            if (!live.Contains(id))
            {
                _waiting.Remove(id);
            }
        }

        var stores = snapshot.Stores.ToDictionary(s => s.Key, s => s.Value.Record);

        // The controller group's own membership is not in the map: read it from its leader, but only in a round that may
        // need it (ControllerGroupMayNeedWork, judged from the membership this process already holds), so a healthy
        // cluster whose group has its size pays nothing per round.
        ShardDescriptor? controller = null;
        if (ControllerGroupMayNeedWork(stores, held))
        {
            controller = await ControllerDescriptorAsync(cancellationToken).ConfigureAwait(true);
            if (controller is null)
            {
                errors.Add("the controller group's membership could not be read from its leader");
            }
        }

        bool controllerStarted = false;
        foreach (var plan in OperationPlanner.Plan(map, stores, snapshot.Operations, MaxInProgress, usedBytes, isSlow, controller, ControllerGroupTarget))
        {
            try
            {
                controllerStarted |= plan.Shard == SystemShards.Controller;
                if (plan.From is null || plan.To is null)
                {
                    await ResizeControllerGroupAsync(plan.From, plan.To, plan.Kind, cancellationToken).ConfigureAwait(true);
                }
                else
                {
                    await StartAsync(plan.Kind, plan.Shard, plan.From, plan.To.Value, plan.SourcePeer, cancellationToken).ConfigureAwait(true);
                }

                changes++;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                errors.Add($"starting {plan.Kind} of shard {plan.Shard}: {e.GetType().Name}: {e.Message}");
            }
        }

        foreach (var store in OperationPlanner.Drained(map, stores, snapshot.Operations, controller))
        {
            var (record, row) = snapshot.Stores[store];
            var removed = record with { State = StoreState.Removed, StateSinceUnixMs = Replicas.WallClockMs };
            if (await _group.CompareAndSwapAsync(ControllerRows.Store(store), row, removed.Encode(), cancellationToken).ConfigureAwait(true))
            {
                changes++;
            }
        }

        if (held is not null)
        {
            // The controller group's orphans are judged against its descriptor as read this round (before any operation
            // of the group this round started: none had acted yet, so that membership still stands), and not at all in a
            // round that started one or while one is in flight (OrphanCollector).
            var group = controllerStarted ? null : controller;
            changes += await DestroyOrphansAsync(OrphanCollector.Find(map, stores, snapshot.Operations, held, MaxOrphansPerRound, group), errors, cancellationToken).ConfigureAwait(true);
        }

        return (changes, errors);
    }

    /// <summary>
    /// Whether this round must read the controller group's descriptor: a store is down or draining (its voter may need
    /// moving), the group may need to grow (at least five stores up, fewer voters known) or shrink (more than three
    /// voters known, fewer than five stores up or merely down), or a store reports a replica of the group that the
    /// membership this process holds does not account for (on a store that is no voter, or at an older membership
    /// version): a peer the group removed while its store was away, to be destroyed. The membership is the newest this
    /// process adopted; every read below adopts the leader's descriptor, so the check settles once the group does.
    /// </summary>
    private bool ControllerGroupMayNeedWork(Dictionary<StoreId, StoreRecord> stores, IReadOnlyDictionary<StoreId, HeldReplica[]>? held)
    {
        int up = 0, remaining = 0;
        foreach (var record in stores.Values)
        {
            if (record.State is StoreState.Decommissioning)
            {
                return true;
            }

            up += record.State == StoreState.Up ? 1 : 0;
            remaining += record.State is StoreState.Up or StoreState.Down ? 1 : 0;
        }

        var members = _group.Membership.Stores;
        if (up < remaining
            || (up >= ControllerGroupTarget && members.Length < ControllerGroupTarget)
            || (remaining < ControllerGroupTarget && members.Length > OperationPlanner.ControllerGroupVoters)
            || members.Any(m => !stores.TryGetValue(m, out var record) || record.State != StoreState.Up))
        {
            return true;
        }

        long version = _group.Membership.ConfVersion;
        foreach (var (store, replicas) in held ?? new Dictionary<StoreId, HeldReplica[]>())
        {
            foreach (var replica in replicas)
            {
                if (replica.Shard == SystemShards.Controller && (replica.ConfVersion < version || Array.IndexOf(members, store) < 0))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Records an operation that grows the controller group by a voter on <paramref name="to"/> (<paramref name="from"/>
    /// null: a move without a source, from its first step) or shrinks it by the voter on <paramref name="from"/>
    /// (<paramref name="to"/> null: a move without a target, from its leadership step: hand leadership away if that voter
    /// leads, remove it, destroy it). Validated against the group's committed descriptor as its leader reports it.
    /// </summary>
    /// <param name="kind"><see cref="OperationKind.ReReplicate"/> when the removed voter's store is down (its
    /// destruction is then not waited for: the store destroys it as an orphan when it returns).</param>
    /// <exception cref="ArgumentException">The change contradicts the group (a store that already holds a replica, or
    /// holds no voter to remove, or a shrink below three voters) or the group has an operation in progress.</exception>
    public async Task<long> ResizeControllerGroupAsync(StoreId? from, StoreId? to, OperationKind kind = OperationKind.MoveReplica, CancellationToken cancellationToken = default)
    {
        if ((from is null) == (to is null))
        {
            throw new ArgumentException("a resize of the controller group names exactly one of a source and a target");
        }

        var snapshot = await ControllerSnapshot.ReadAsync(_group, cancellationToken).ConfigureAwait(true);
        if (snapshot.Operations.FirstOrDefault(o => o.Shard == SystemShards.Controller) is { } busy)
        {
            throw new ArgumentException($"the controller group has operation {busy.Id} ({busy.Kind}) in progress");
        }

        var descriptor = await ControllerDescriptorAsync(cancellationToken).ConfigureAwait(true)
            ?? throw new InvalidOperationException("the controller group's membership could not be read from its leader; try again");
        long now = Replicas.WallClockMs;
        OperationRecord record;
        if (to is { } target)
        {
            if (descriptor.HasReplicaOn(target))
            {
                throw new ArgumentException($"store {target} already holds a replica of the controller group", nameof(to));
            }

            if (!snapshot.Stores.TryGetValue(target, out var row) || row.Record.State != StoreState.Up)
            {
                throw new ArgumentException($"store {target} is not up", nameof(to));
            }

            record = await _rows.CreateOperationAsync(id => new OperationRecord(id, OperationKind.MoveReplica, SystemShards.Controller, (int)MoveStep.AllocatePeer, null, target, 0, now, now, []), cancellationToken).ConfigureAwait(true);
        }
        else
        {
            var source = from!.Value;
            if (descriptor.PeerOn(source) is not { Role: PeerRole.Voter } peer)
            {
                throw new ArgumentException($"store {source} holds no voter of the controller group", nameof(from));
            }

            if (descriptor.Replicas.Length <= OperationPlanner.ControllerGroupVoters)
            {
                throw new ArgumentException($"the controller group has {descriptor.Replicas.Length} voters; it never shrinks below {OperationPlanner.ControllerGroupVoters}", nameof(from));
            }

            record = await _rows.CreateOperationAsync(id => new OperationRecord(id, kind, SystemShards.Controller, (int)MoveStep.TransferLeader, source, null, 0, now, now, ReplicaMoveRunner.SourcePeerArgument(peer.PeerId)), cancellationToken).ConfigureAwait(true);
        }

        return record.Id;
    }

    private async Task<int> DestroyOrphansAsync(List<OrphanReplica> orphans, List<string> errors, CancellationToken cancellationToken)
    {
        int destroyed = 0;
        foreach (var orphan in orphans)
        {
            try
            {
                var result = await Replicas.DestroyOrphanAsync(orphan, cancellationToken).ConfigureAwait(true);
                if (result.Outcome == Abstractions.Status.ReplicaAdminOutcome.Refused)
                {
                    // Reported once: a refusal repeats every round until the store's next heartbeat says otherwise.
                    if (_refusedOrphans.Add(orphan))
                    {
                        errors.Add($"destroying {orphan}: refused: {result.Detail}");
                    }

                    continue;
                }

                _refusedOrphans.Remove(orphan);
                if (result.Outcome == Abstractions.Status.ReplicaAdminOutcome.Done)
                {
                    _destroyed.Add(orphan);
                    destroyed++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                errors.Add($"destroying {orphan}: {e.GetType().Name}: {e.Message}");
            }
        }

        return destroyed;
    }

    /// <summary>
    /// The controller group's committed descriptor as its leader applied it (asked of the known members and whoever
    /// their descriptors name), or null when no leader answers. Adopted into the shared membership on the way.
    /// </summary>
    public async Task<ShardDescriptor?> ControllerDescriptorAsync(CancellationToken cancellationToken = default)
    {
        var statuses = new Dictionary<StoreId, Abstractions.Status.ReplicaStatus>();
        var known = _group.Membership.Stores;
        await ReplicaStatuses.AskAsync(Replicas, SystemShards.Controller, known, statuses, cancellationToken).ConfigureAwait(true);
        var more = statuses.Values.SelectMany(s => s.Descriptor?.Peers ?? []).Select(p => p.Store).Where(s => Array.IndexOf(known, s) < 0).Distinct().ToList();
        await ReplicaStatuses.AskAsync(Replicas, SystemShards.Controller, more, statuses, cancellationToken).ConfigureAwait(true);
        var leader = ReplicaStatuses.Leader(statuses.Values);
        _group.Membership.Adopt(leader?.Descriptor);
        return leader?.Descriptor;
    }

    /// <summary>
    /// Records a new operation (its id from the map's allocator; a crash between the two swaps only wastes an id).
    /// Validates it against the committed map first.
    /// </summary>
    /// <exception cref="ArgumentException">The operation contradicts the map (unknown shard, a store that holds no
    /// replica to move or already holds one, anything but a move of the controller group's replicas) or the shard has
    /// an operation in progress.</exception>
    public async Task<long> StartAsync(OperationKind kind, ShardId shard, StoreId? from, StoreId to, ulong sourcePeer = 0, CancellationToken cancellationToken = default)
    {
        var snapshot = await ControllerSnapshot.ReadAsync(_group, cancellationToken).ConfigureAwait(true);
        var map = snapshot.Map ?? throw new InvalidOperationException("the controller has no shard map yet");
        ShardDescriptor descriptor;
        if (shard == SystemShards.Controller)
        {
            if (kind is not (OperationKind.MoveReplica or OperationKind.ReReplicate))
            {
                throw new ArgumentException($"the controller group's replicas can be moved, not {kind}", nameof(kind));
            }

            descriptor = await ControllerDescriptorAsync(cancellationToken).ConfigureAwait(true)
                ?? throw new InvalidOperationException("the controller group's membership could not be read from its leader; try again");
        }
        else
        {
            descriptor = Array.Find(map.Shards, s => s.Id == shard)
                ?? throw new ArgumentException($"shard {shard} is not in the map", nameof(shard));
        }

        if (snapshot.Operations.FirstOrDefault(o => MergeRunner.Involves(o, shard)) is { } busy)
        {
            throw new ArgumentException($"shard {shard} has operation {busy.Id} ({busy.Kind}) in progress", nameof(shard));
        }

        if (!snapshot.Stores.TryGetValue(to, out var target) || target.Record.State is StoreState.Removed or StoreState.Decommissioning)
        {
            throw new ArgumentException($"store {to} is not a store that can take replicas", nameof(to));
        }

        switch (kind)
        {
            case OperationKind.MoveReplica or OperationKind.ReReplicate:
                if (from is not { } source || descriptor.PeerOn(source) is not { } moved)
                {
                    throw new ArgumentException($"store {from} holds no replica of shard {shard}", nameof(from));
                }

                if (descriptor.HasReplicaOn(to))
                {
                    throw new ArgumentException($"store {to} already holds a replica of shard {shard}", nameof(to));
                }

                sourcePeer = sourcePeer == 0 ? moved.PeerId : sourcePeer;
                break;
            case OperationKind.TransferLeader:
                if (descriptor.PeerOn(to) is not { Role: Abstractions.Sharding.PeerRole.Voter })
                {
                    throw new ArgumentException($"store {to} holds no voter of shard {shard}", nameof(to));
                }

                break;
            default:
                throw new ArgumentException($"{kind} operations are not started here", nameof(kind));
        }

        long now = Replicas.WallClockMs;
        var argument = sourcePeer == 0 ? [] : ReplicaMoveRunner.SourcePeerArgument(sourcePeer);
        var record = await _rows.CreateOperationAsync(id => new OperationRecord(id, kind, shard, 0, from, to, 0, now, now, argument), cancellationToken).ConfigureAwait(true);
        return record.Id;
    }
}
