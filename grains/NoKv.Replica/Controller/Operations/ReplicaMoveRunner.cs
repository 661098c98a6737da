using System.Buffers.Binary;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// Runs a replica move (<see cref="OperationKind.MoveReplica"/>) or a re-replication (<see cref="OperationKind.ReReplicate"/>,
/// the same steps with a dead source): new peer id, empty replica on the target, learner, catch up, promote, publish,
/// hand leadership away from the source, remove the source, commit the map, destroy the source's replica
/// (<see cref="MoveStep"/>; docs/controller.md, "Operations").
/// <para>Crash safety: every step is done first and recorded after (a compare-and-swap on the operation row), and
/// every step first looks at the shard's committed descriptor (the leader's applied one) and does nothing if its
/// effect is already there. A crash, or a second copy of this logic, anywhere therefore either repeats a step that
/// turns out done, or loses a compare-and-swap and re-reads. Peer ids come from the map's allocator and are never
/// reused, so a retried creation cannot resurrect anything.</para>
/// <para>The operation row's argument holds the source's peer id once known (8 bytes, little-endian), so the
/// removed replica can still be named for destruction after the descriptor forgot it.</para>
/// Threading: one logical thread at a time per instance; no state besides options and dependencies.
/// </summary>
public sealed class ReplicaMoveRunner
{
    private readonly IOperationRows _rows;
    private readonly IReplicaAdmin _replicas;
    private readonly ReplicaMoveOptions _options;
    private readonly ControllerMembership? _controller;

    /// <summary>
    /// Per operation in the catch-up step: the learner's progress as last seen (applied index, snapshot bytes received)
    /// and since when (Unix ms). Memory only: a new controller starts counting at its first look.
    /// </summary>
    private readonly Dictionary<long, (long Applied, long SnapshotBytes, long SinceMs)> _catchUp = new();

    /// <param name="controller">Where the controller group's members are (moves of shard 0 look for its replicas there,
    /// since the map does not hold the group, and each look adopts the leader's descriptor); null when the runner never
    /// moves the controller's replicas (tests of user shards).</param>
    public ReplicaMoveRunner(IOperationRows rows, IReplicaAdmin replicas, ReplicaMoveOptions? options = null, ControllerMembership? controller = null)
    {
        _rows = rows;
        _replicas = replicas;
        _options = options ?? new ReplicaMoveOptions();
        _controller = controller;
    }

    /// <summary>Runs operation <paramref name="id"/> from its recorded step until it waits, finishes or uses its step budget.</summary>
    public async Task<OperationProgress> RunAsync(long id, CancellationToken cancellationToken = default)
    {
        int recorded = 0;
        string? rollingBack = null;
        for (int i = 0; i < _options.MaxStepsPerRun; i++)
        {
            var (op, row) = await _rows.ReadOperationAsync(id, cancellationToken).ConfigureAwait(true);
            if (op is null || row is null)
            {
                return new OperationProgress(true, recorded, null, rollingBack);
            }

            if (op.Kind is not (OperationKind.MoveReplica or OperationKind.ReReplicate) || (op.To is null && !IsRemoval(op)))
            {
                throw new InvalidOperationException($"operation {op.Id} ({op.Kind}) is not a replica move");
            }

            var step = (MoveStep)op.Step;
            var outcome = await StepAsync(op, cancellationToken).ConfigureAwait(true);
            if (outcome.Waiting is { } reason)
            {
                return new OperationProgress(false, recorded, $"{step}: {reason}", rollingBack);
            }

            var next = outcome.Finished ? null : outcome.Next! with { StepSinceUnixMs = outcome.Next!.Step == op.Step ? op.StepSinceUnixMs : _replicas.WallClockMs };
            if (!await _rows.SwapOperationAsync(op.Id, row, next, cancellationToken).ConfigureAwait(true))
            {
                return new OperationProgress(false, recorded, "the operation row changed meanwhile", rollingBack);
            }

            recorded++;
            if (next is not null && IsRollback((MoveStep)next.Step) && !IsRollback(step))
            {
                // Recorded only once the swap into the rollback won: the reason an operator sees is the one that decided.
                rollingBack = $"{op.Kind} of shard {op.Shard} from store {op.From} to store {op.To} rolls back at {step}: {outcome.Why ?? $"no progress for {_options.StepTimeout.TotalSeconds:0.#} s"}";
            }

            if (outcome.Finished)
            {
                return new OperationProgress(true, recorded, null, rollingBack);
            }
        }

        return new OperationProgress(false, recorded, "step budget used", rollingBack);
    }

    private static bool IsRollback(MoveStep step) => step is MoveStep.RollbackRemoveLearner or MoveStep.RollbackDestroyTarget;

    /// <summary>
    /// A move without a target: the controller group shrinking by one voter (<see cref="OperationLoop.ResizeControllerGroupAsync"/>).
    /// It is recorded at <see cref="MoveStep.TransferLeader"/> with the source's peer id, so it only ever runs the
    /// steps from there on (hand leadership away, remove, commit, destroy), none of which needs a target.
    /// </summary>
    private static bool IsRemoval(OperationRecord op) =>
        op.To is null && op.From is not null && op.Step is >= (int)MoveStep.TransferLeader and <= (int)MoveStep.DestroySource;

    /// <summary>The source's peer id recorded in an operation's argument (0 = not yet known).</summary>
    public static ulong SourcePeer(OperationRecord op) => op.Argument.Length == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(op.Argument) : 0;

    /// <summary>The argument that records <paramref name="peer"/> as the source's peer id.</summary>
    public static byte[] SourcePeerArgument(ulong peer)
    {
        var argument = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(argument, peer);
        return argument;
    }

    private async Task<StepOutcome> StepAsync(OperationRecord op, CancellationToken ct)
    {
        var step = (MoveStep)op.Step;
        switch (step)
        {
            case MoveStep.AllocatePeer:
                return await AllocatePeerAsync(op, ct).ConfigureAwait(true);
            case MoveStep.CreateReplica:
                return await CreateReplicaAsync(op, ct).ConfigureAwait(true);
            case MoveStep.AddLearner:
                return await AddLearnerAsync(op, ct).ConfigureAwait(true);
            case MoveStep.CatchUp:
                return await CatchUpAsync(op, ct).ConfigureAwait(true);
            case MoveStep.Promote:
                return await PromoteAsync(op, ct).ConfigureAwait(true);
            case MoveStep.PublishVoter:
                return await PublishAsync(op, MoveStep.TransferLeader, ct).ConfigureAwait(true);
            case MoveStep.TransferLeader:
                return await TransferAsync(op, ct).ConfigureAwait(true);
            case MoveStep.RemoveSource:
                return await RemoveSourceAsync(op, ct).ConfigureAwait(true);
            case MoveStep.CommitMap:
                return await PublishAsync(op, MoveStep.DestroySource, ct).ConfigureAwait(true);
            case MoveStep.DestroySource:
                return await DestroySourceAsync(op, ct).ConfigureAwait(true);
            case MoveStep.RollbackRemoveLearner:
                return await RollbackRemoveLearnerAsync(op, ct).ConfigureAwait(true);
            case MoveStep.RollbackDestroyTarget:
                return await RollbackDestroyTargetAsync(op, ct).ConfigureAwait(true);
            default:
                throw new InvalidDataException($"operation {op.Id}: step {op.Step} of a replica move is unknown to this build");
        }
    }

    private async Task<StepOutcome> AllocatePeerAsync(OperationRecord op, CancellationToken ct)
    {
        if (op.NewPeerId != 0)
        {
            return Next(op, MoveStep.CreateReplica);
        }

        // Taken from the map's allocator with a swap: a crash before the operation records it only wastes an id.
        var (map, row) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        ulong peer = map.NextPeerId;
        if (!await _rows.SwapMapAsync(row, map with { Version = map.Version + 1, NextPeerId = peer + 1 }, ct).ConfigureAwait(true))
        {
            return Wait("the map changed while allocating a peer id");
        }

        return new StepOutcome(op with { NewPeerId = peer, Step = (int)MoveStep.CreateReplica }, false, null);
    }

    private async Task<StepOutcome> CreateReplicaAsync(OperationRecord op, CancellationToken ct)
    {
        var target = op.To!.Value;
        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        var descriptor = group.Leader?.Descriptor ?? group.MapDescriptor;
        if (descriptor is null)
        {
            return Wait($"shard {op.Shard} is not in the map");
        }

        if (descriptor.Peer(op.NewPeerId) is not null)
        {
            // Already a member: the creation happened before a crash.
            return Next(op, MoveStep.AddLearner);
        }

        if (descriptor.PeerOn(target) is { } other)
        {
            return Next(op, MoveStep.RollbackDestroyTarget, $"store {target} already holds peer {other.PeerId}");
        }

        if (op.Shard == SystemShards.Controller && group.Leader?.Descriptor is { } committed
            && group.Status(target) is { PeerId: not 0 } stale && stale.PeerId != op.NewPeerId && committed.Peer(stale.PeerId) is null)
        {
            // The target still holds a peer the group removed while that store was away (orphan cleanup, which works
            // from the map, does not cover the controller group): the creation would be refused for good. The
            // replica destroys itself only if its own descriptor proves it removed (older membership, or not a member).
            var orphan = new OrphanReplica(target, op.Shard, stale.PeerId, stale.Descriptor?.ConfVersion ?? 0, committed.ConfVersion);
            try
            {
                var destroyed = await _replicas.DestroyOrphanAsync(orphan, ct).ConfigureAwait(true);
                return destroyed.Outcome == ReplicaAdminOutcome.Refused && TimedOut(op, _options.StepTimeout)
                    ? Next(op, MoveStep.RollbackDestroyTarget, destroyed.Detail)
                    : Wait($"{orphan}: {destroyed.Outcome} {destroyed.Detail}");
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return TimedOut(op, _options.StepTimeout) ? Next(op, MoveStep.RollbackDestroyTarget) : Wait($"store {target} did not answer: {e.Message}");
            }
        }

        ReplicaAdminResult result;
        try
        {
            result = await _replicas.CreateAsync(target, descriptor, op.NewPeerId, ct).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return TimedOut(op, _options.StepTimeout) ? Next(op, MoveStep.RollbackDestroyTarget) : Wait($"store {target} did not answer: {e.Message}");
        }

        return result.Outcome == ReplicaAdminOutcome.Refused
            ? Next(op, MoveStep.RollbackDestroyTarget, result.Detail)
            : Next(op, MoveStep.AddLearner);
    }

    private async Task<StepOutcome> AddLearnerAsync(OperationRecord op, CancellationToken ct)
    {
        var target = op.To!.Value;
        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed } leader)
        {
            return TimedOut(op, _options.StepTimeout) ? Next(op, MoveStep.RollbackRemoveLearner) : Wait($"shard {op.Shard} has no leader");
        }

        if (committed.Peer(op.NewPeerId) is not null)
        {
            return Next(op, MoveStep.CatchUp);
        }

        if (committed.PeerOn(target) is not null)
        {
            return Next(op, MoveStep.RollbackDestroyTarget, $"store {target} joined shard {op.Shard} as another peer");
        }

        var response = await ChangeAsync(leader.Replica.Store, op.Shard, MembershipChangeKind.AddLearner, new PeerDescriptor(op.NewPeerId, target, PeerRole.Learner), ct).ConfigureAwait(true);
        return response switch
        {
            NoKvErrorCode.Ok => Next(op, MoveStep.CatchUp),
            NoKvErrorCode.InvalidRange => Next(op, MoveStep.RollbackDestroyTarget),
            _ => TimedOut(op, _options.StepTimeout) ? Next(op, MoveStep.RollbackRemoveLearner) : Wait($"adding the learner: {response}"),
        };
    }

    private async Task<StepOutcome> CatchUpAsync(OperationRecord op, CancellationToken ct)
    {
        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed } leader)
        {
            return TimedOut(op, _options.StepTimeout) ? Next(op, MoveStep.RollbackRemoveLearner) : Wait($"shard {op.Shard} has no leader");
        }

        if (committed.Peer(op.NewPeerId) is not { } peer)
        {
            return Next(op, MoveStep.AddLearner);
        }

        if (peer.Role == PeerRole.Voter)
        {
            return Next(op, MoveStep.PublishVoter);
        }

        var learner = group.Status(op.To!.Value);
        if (learner is { Uninitialized: false } && learner.PeerId == op.NewPeerId && (ulong)learner.AppliedIndex + _options.CatchUpLag >= (ulong)leader.CommitIndex)
        {
            ForgetCatchUp(op);
            return Next(op, MoveStep.Promote);
        }

        if (CatchUpStalled(op, learner?.PeerId == op.NewPeerId ? learner : null))
        {
            ForgetCatchUp(op);
            return Next(op, MoveStep.RollbackRemoveLearner, $"the learner did not catch up: no progress for {_options.StepTimeout.TotalSeconds:0.#} s");
        }

        return Wait(learner is null ? "the target does not answer" : $"learner applied {learner.AppliedIndex}{(learner.Uninitialized ? " (no snapshot yet)" : string.Empty)}, leader committed {leader.CommitIndex}");
    }

    private async Task<StepOutcome> PromoteAsync(OperationRecord op, CancellationToken ct)
    {
        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed } leader)
        {
            return Wait($"shard {op.Shard} has no leader");
        }

        if (committed.Peer(op.NewPeerId) is not { } peer)
        {
            return Next(op, MoveStep.AddLearner);
        }

        if (peer.Role == PeerRole.Voter)
        {
            return Next(op, MoveStep.PublishVoter);
        }

        var response = await ChangeAsync(leader.Replica.Store, op.Shard, MembershipChangeKind.Promote, peer, ct).ConfigureAwait(true);
        return response == NoKvErrorCode.Ok ? Next(op, MoveStep.PublishVoter) : Wait($"promoting: {response}");
    }

    /// <summary>Mirrors the leader's committed membership into the map (publish after promotion, commit after removal).</summary>
    private async Task<StepOutcome> PublishAsync(OperationRecord op, MoveStep then, CancellationToken ct)
    {
        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed })
        {
            return Wait($"shard {op.Shard} has no leader");
        }

        return await MirrorAsync(committed, ct).ConfigureAwait(true) ? Next(op, then) : Wait("the map changed meanwhile");
    }

    private async Task<StepOutcome> TransferAsync(OperationRecord op, CancellationToken ct)
    {
        if (op.From is not { } source)
        {
            return Next(op, MoveStep.RemoveSource);
        }

        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed } leader)
        {
            return Wait($"shard {op.Shard} has no leader");
        }

        if (leader.Replica.Store != source)
        {
            return Next(op, MoveStep.RemoveSource);
        }

        // To the new voter first; if it cannot take over in time (or there is none: the group shrinking), to any other
        // voter: the source must not lead when it is removed (a removed leader steps down only once it applies its own
        // removal).
        var to = op.To ?? source;
        if (op.To is null || TimedOut(op, _options.TransferTimeout) || committed.PeerOn(to) is not { Role: PeerRole.Voter })
        {
            foreach (var peer in committed.Peers)
            {
                if (peer.Role == PeerRole.Voter && peer.Store != source && group.Status(peer.Store) is not null)
                {
                    to = peer.Store;
                    break;
                }
            }
        }

        if (to == source)
        {
            return Wait($"no other voter of shard {op.Shard} answers to take leadership from store {source}");
        }

        try
        {
            await _replicas.TransferLeaderAsync(source, op.Shard, to, ct).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return Wait($"store {source} did not answer: {e.Message}");
        }

        return Wait($"leadership is moving from store {source} to store {to}");
    }

    private async Task<StepOutcome> RemoveSourceAsync(OperationRecord op, CancellationToken ct)
    {
        if (op.From is not { } source)
        {
            return Next(op, MoveStep.CommitMap);
        }

        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed } leader)
        {
            return Wait($"shard {op.Shard} has no leader");
        }

        if (committed.PeerOn(source) is not { } peer)
        {
            return Next(op, MoveStep.CommitMap);
        }

        if (SourcePeer(op) != peer.PeerId)
        {
            // Recorded before acting: after the removal no descriptor names the peer any more.
            return new StepOutcome(op with { Argument = SourcePeerArgument(peer.PeerId) }, false, null);
        }

        if (leader.Replica.Store == source)
        {
            return Next(op, MoveStep.TransferLeader);
        }

        var response = await ChangeAsync(leader.Replica.Store, op.Shard, MembershipChangeKind.Remove, peer, ct).ConfigureAwait(true);
        return response == NoKvErrorCode.Ok ? Next(op, MoveStep.CommitMap) : Wait($"removing the source: {response}");
    }

    private async Task<StepOutcome> DestroySourceAsync(OperationRecord op, CancellationToken ct)
    {
        ulong peer = SourcePeer(op);
        if (op.From is not { } source || peer == 0)
        {
            return Finish();
        }

        try
        {
            var result = await _replicas.DestroyAsync(source, op.Shard, peer, ct).ConfigureAwait(true);
            return result.Outcome == ReplicaAdminOutcome.Refused && !TimedOut(op, _options.StepTimeout) ? Wait(result.Detail ?? "refused") : Finish();
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A dead source keeps its removed replica until it returns; orphan cleanup destroys it then.
            return op.Kind == OperationKind.ReReplicate || TimedOut(op, _options.StepTimeout) ? Finish() : Wait($"store {source} did not answer: {e.Message}");
        }
    }

    private async Task<StepOutcome> RollbackRemoveLearnerAsync(OperationRecord op, CancellationToken ct)
    {
        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is not { Descriptor: { } committed } leader)
        {
            return Wait($"shard {op.Shard} has no leader");
        }

        if (committed.Peer(op.NewPeerId) is not { } peer)
        {
            return await MirrorAsync(committed, ct).ConfigureAwait(true) ? Next(op, MoveStep.RollbackDestroyTarget) : Wait("the map changed meanwhile");
        }

        if (peer.Role == PeerRole.Voter)
        {
            // Promoted after all (the promotion committed before a crash): finish the move instead.
            return Next(op, MoveStep.PublishVoter);
        }

        var response = await ChangeAsync(leader.Replica.Store, op.Shard, MembershipChangeKind.Remove, peer, ct).ConfigureAwait(true);
        return response == NoKvErrorCode.Ok ? Wait("learner removed") : Wait($"removing the learner: {response}");
    }

    private async Task<StepOutcome> RollbackDestroyTargetAsync(OperationRecord op, CancellationToken ct)
    {
        if (op.NewPeerId == 0)
        {
            return Finish();
        }

        var group = await FindGroupAsync(op, ct).ConfigureAwait(true);
        if (group.Leader is { Descriptor: { } committed } && committed.Peer(op.NewPeerId) is not null)
        {
            // The learner joined after all (an add that committed after its answer was lost): remove it first.
            return Next(op, MoveStep.RollbackRemoveLearner);
        }

        if (group.Leader is null)
        {
            return Wait($"shard {op.Shard} has no leader to confirm the learner is gone");
        }

        try
        {
            await _replicas.DestroyAsync(op.To!.Value, op.Shard, op.NewPeerId, ct).ConfigureAwait(true);
            return Finish();
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return TimedOut(op, _options.StepTimeout) ? Finish() : Wait($"store {op.To} did not answer: {e.Message}");
        }
    }

    private Task<bool> MirrorAsync(ShardDescriptor committed, CancellationToken ct) => MapMirror.MirrorAsync(_rows, committed, ct);

    private async Task<NoKvErrorCode> ChangeAsync(StoreId leader, ShardId shard, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken ct)
    {
        try
        {
            return (await _replicas.ChangeAsync(leader, shard, kind, peer, ct).ConfigureAwait(true)).Code;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return NoKvErrorCode.StoreUnavailable;
        }
    }

    /// <summary>
    /// The statuses of every store that may hold a replica of the shard (the map's peers, the source, the target and
    /// whoever the answers name), and the leader among them: the answering leader of the highest term.
    /// </summary>
    private async Task<GroupView> FindGroupAsync(OperationRecord op, CancellationToken ct)
    {
        var (map, _) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        var mapDescriptor = Array.Find(map.Shards, s => s.Id == op.Shard);
        var stores = new HashSet<StoreId>();
        if (mapDescriptor is not null)
        {
            foreach (var peer in mapDescriptor.Peers)
            {
                stores.Add(peer.Store);
            }
        }

        if (op.Shard == SystemShards.Controller && _controller is not null)
        {
            // The controller group is not in the map: its members are where the shared membership says.
            foreach (var store in _controller.Stores)
            {
                stores.Add(store);
            }
        }

        if (op.From is { } from)
        {
            stores.Add(from);
        }

        if (op.To is { } to)
        {
            stores.Add(to);
        }

        var statuses = new Dictionary<StoreId, ReplicaStatus>();
        await ReplicaStatuses.AskAsync(_replicas, op.Shard, stores, statuses, ct).ConfigureAwait(true);
        var more = new HashSet<StoreId>();
        foreach (var status in statuses.Values)
        {
            foreach (var peer in status.Descriptor?.Peers ?? [])
            {
                if (!stores.Contains(peer.Store))
                {
                    more.Add(peer.Store);
                }
            }
        }

        await ReplicaStatuses.AskAsync(_replicas, op.Shard, more, statuses, ct).ConfigureAwait(true);
        var leader = ReplicaStatuses.Leader(statuses.Values);
        if (op.Shard == SystemShards.Controller)
        {
            // Every client of the group in this process follows the move as soon as a step sees it committed.
            _controller?.Adopt(leader?.Descriptor);
        }

        return new GroupView(mapDescriptor, leader, statuses);
    }

    private bool TimedOut(OperationRecord op, TimeSpan limit) => _replicas.WallClockMs - op.StepSinceUnixMs > limit.TotalMilliseconds;

    /// <summary>
    /// True when the learner has made no progress (applied index, or bytes of the snapshot it is receiving) for the
    /// step timeout. A fixed deadline from the step's start rolled back a learner still copying a 256 MiB shard at 2
    /// minutes and copied it all again (the rereplicate benchmark at 1 GiB); a learner that stopped still goes after the
    /// timeout, counted from the step's start until the first progress is seen. A runner that first looks at a learner
    /// already under way (a controller failover mid-copy) counts from that look.
    /// </summary>
    private bool CatchUpStalled(OperationRecord op, ReplicaStatus? learner)
    {
        long now = _replicas.WallClockMs;
        long applied = learner?.AppliedIndex ?? -1, bytes = learner?.SnapshotBytesReceived ?? -1;
        lock (_catchUp)
        {
            long since;
            if (!_catchUp.TryGetValue(op.Id, out var last))
            {
                // First look by this runner (a new controller after a failover, or a restart): a learner that has
                // copied anything gets a whole timeout from now, since this runner cannot know when it last moved;
                // one that shows nothing is timed from the step's start, so a dead target still goes on time.
                since = (applied > 0 && learner is { Uninitialized: false }) || bytes > 0 ? now : op.StepSinceUnixMs;
                last = (-1, -1, since);
            }
            else if (applied > last.Applied || bytes > last.SnapshotBytes)
            {
                // Highest seen of each, so a snapshot that starts over is progress only past where the last one got.
                since = now;
            }
            else
            {
                since = last.SinceMs;
            }

            _catchUp[op.Id] = (Math.Max(applied, last.Applied), Math.Max(bytes, last.SnapshotBytes), since);
            return now - since > _options.StepTimeout.TotalMilliseconds;
        }
    }

    private void ForgetCatchUp(OperationRecord op)
    {
        lock (_catchUp)
        {
            _catchUp.Remove(op.Id);
        }
    }

    private static StepOutcome Next(OperationRecord op, MoveStep step, string? why = null) => new(op with { Step = (int)step }, false, null, why);

    private static StepOutcome Wait(string reason) => new(null, false, reason);

    private static StepOutcome Finish() => new(null, true, null);

    /// <param name="Why">Why the next step was chosen, when it is a rollback the operator should learn the cause of.</param>
    private sealed record StepOutcome(OperationRecord? Next, bool Finished, string? Waiting, string? Why = null);

    private sealed record GroupView(ShardDescriptor? MapDescriptor, ReplicaStatus? Leader, Dictionary<StoreId, ReplicaStatus> Statuses)
    {
        public ReplicaStatus? Status(StoreId store) => Statuses.GetValueOrDefault(store);
    }
}
