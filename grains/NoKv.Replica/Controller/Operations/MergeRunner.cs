using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// Runs a merge of a shard (the source, the operation row's shard) into an adjacent neighbour (the target, in the
/// row's <see cref="MergeArgument"/>), driven by the <see cref="OperationLoop"/> like every other operation
/// (docs/controller.md, "Merge"; the replica side is docs/replica.md, "Merge"). Steps (<see cref="MergeOperationStep"/>):
/// co-locate (child replica moves of the source until both shards have replicas on the same stores), prepare (the
/// source freezes), wait until every source replica applied the prepare, commit (the target takes the range over),
/// commit the map, clean up; or roll back.
/// <para>Crash safety: each step first looks at what the replicas applied and does nothing that is done already; what
/// a step learned or decided is recorded with a compare-and-swap on the operation row before the next step acts on
/// it, so a crash (or a second copy of this logic) anywhere either repeats a look or loses a swap and re-reads. The
/// one irreversible choice, commit or roll back, is the swap out of <see cref="MergeOperationStep.WaitSource"/>: a
/// commit is proposed only from <see cref="MergeOperationStep.Commit"/>, and a rollback only from
/// <see cref="MergeOperationStep.Rollback"/>, which is recorded either instead of the commit or once the target moved
/// past the epoch the commit expects (so the commit can never apply). Before the prepare, giving up is safe only when
/// no prepare can ever apply, which the expected epoch and conf version, recorded before the first proposal, prove.</para>
/// Threading: one logical thread at a time per instance.
/// </summary>
public sealed class MergeRunner
{
    private const int EndReasonsKept = 64;
    private readonly IOperationRows _rows;
    private readonly IReplicaAdmin _replicas;
    private readonly ReplicaMoveOptions _options;
    private readonly Dictionary<long, string> _ended = new();
    private readonly Queue<long> _endedOrder = new();

    public MergeRunner(IOperationRows rows, IReplicaAdmin replicas, ReplicaMoveOptions? options = null)
    {
        _rows = rows;
        _replicas = replicas;
        _options = options ?? new ReplicaMoveOptions();
    }

    /// <summary>The target of a merge operation.</summary>
    public static ShardId TargetOf(OperationRecord operation) => MergeArgument.Decode(operation.Argument).Target;

    /// <summary>True when <paramref name="operation"/> changes <paramref name="shard"/> (a merge changes its target too).</summary>
    public static bool Involves(OperationRecord operation, ShardId shard) =>
        operation.Shard == shard || (operation.Kind == OperationKind.Merge && TargetOf(operation) == shard);

    /// <summary>Why merge <paramref name="id"/> ended without merging, if this runner ended it so (recently).</summary>
    public string? EndReason(long id)
    {
        lock (_ended)
        {
            return _ended.GetValueOrDefault(id);
        }
    }

    /// <summary>Why <paramref name="source"/> can never merge into <paramref name="target"/>.</summary>
    /// <exception cref="ArgumentException">The same shard, a system group, or not adjacent.</exception>
    public static void Validate(ShardDescriptor source, ShardDescriptor target)
    {
        if (source.Id == target.Id || source.Id == SystemShards.Controller || target.Id == SystemShards.Controller)
        {
            throw new ArgumentException($"Shards {source.Id} and {target.Id} cannot merge.", nameof(source));
        }

        if (!Adjacent(source.Range, target.Range))
        {
            throw new ArgumentException($"Shard {source.Id} {source.Range} is not adjacent to shard {target.Id} {target.Range}.", nameof(target));
        }

        if (source.Peers.Length != target.Peers.Length)
        {
            throw new ArgumentException($"Shards {source.Id} and {target.Id} have {source.Peers.Length} and {target.Peers.Length} replicas; only shards with as many replicas merge.", nameof(target));
        }
    }

    /// <summary>Records a merge of <paramref name="source"/> into <paramref name="target"/> at its first step (the loop runs it).</summary>
    /// <exception cref="ArgumentException">A shard is unknown, the two cannot merge, or either has an operation in progress.</exception>
    public async Task<OperationRecord> StartAsync(ShardId source, ShardId target, CancellationToken cancellationToken = default)
    {
        var (map, _) = await _rows.ReadMapAsync(cancellationToken).ConfigureAwait(true);
        var s = Array.Find(map.Shards, d => d.Id == source) ?? throw new ArgumentException($"Shard {source} is not in the map.", nameof(source));
        var t = Array.Find(map.Shards, d => d.Id == target) ?? throw new ArgumentException($"Shard {target} is not in the map.", nameof(target));
        Validate(s, t);
        foreach (var busy in await _rows.ListOperationsAsync(cancellationToken).ConfigureAwait(true))
        {
            if (Involves(busy, source) || Involves(busy, target))
            {
                throw new ArgumentException($"Shard {busy.Shard} has operation {busy.Id} ({busy.Kind}) in progress.", nameof(source));
            }
        }

        long now = _replicas.WallClockMs;
        var argument = MergeArgument.For(target).Encode();
        return await _rows.CreateOperationAsync(
            id => new OperationRecord(id, OperationKind.Merge, source, (int)MergeOperationStep.Colocate, null, null, 0, now, now, argument),
            cancellationToken).ConfigureAwait(true);
    }

    /// <summary>Runs operation <paramref name="id"/> from its recorded step until it waits, finishes or uses its step budget.</summary>
    public async Task<OperationProgress> RunAsync(long id, CancellationToken cancellationToken = default)
    {
        int recorded = 0;
        for (int i = 0; i < _options.MaxStepsPerRun; i++)
        {
            var (op, row) = await _rows.ReadOperationAsync(id, cancellationToken).ConfigureAwait(true);
            if (op is null || row is null)
            {
                return new OperationProgress(true, recorded, null);
            }

            if (op.Kind != OperationKind.Merge)
            {
                throw new InvalidOperationException($"operation {op.Id} ({op.Kind}) is not a merge");
            }

            var outcome = await StepAsync(op, MergeArgument.Decode(op.Argument), cancellationToken).ConfigureAwait(true);
            if (outcome.Waiting is { } reason)
            {
                return new OperationProgress(false, recorded, $"{(MergeOperationStep)op.Step}: {reason}");
            }

            if (outcome.Again)
            {
                continue;
            }

            var next = outcome.Finished ? null : outcome.Next! with { StepSinceUnixMs = outcome.Next!.Step == op.Step ? op.StepSinceUnixMs : _replicas.WallClockMs };
            if (!await _rows.SwapOperationAsync(op.Id, row, next, cancellationToken).ConfigureAwait(true))
            {
                return new OperationProgress(false, recorded, "the operation row changed meanwhile");
            }

            recorded++;
            if (outcome.Finished)
            {
                Ended(op.Id, outcome.Why);
                return new OperationProgress(true, recorded, null);
            }
        }

        return new OperationProgress(false, recorded, "step budget used");
    }

    private Task<StepOutcome> StepAsync(OperationRecord op, MergeArgument a, CancellationToken ct) => (MergeOperationStep)op.Step switch
    {
        MergeOperationStep.Colocate => ColocateAsync(op, a, ct),
        MergeOperationStep.Prepare => PrepareAsync(op, a, ct),
        MergeOperationStep.WaitSource => WaitSourceAsync(op, a, ct),
        MergeOperationStep.Commit => CommitAsync(op, a, ct),
        MergeOperationStep.CommitMap => CommitMapAsync(op, a, ct),
        MergeOperationStep.Cleanup => CleanupAsync(op, a, ct),
        MergeOperationStep.Rollback => RollbackAsync(op, a, ct),
        _ => throw new InvalidDataException($"operation {op.Id}: step {op.Step} of a merge is unknown to this build"),
    };

    /// <summary>
    /// Until both shards have replicas on the same stores, one child replica move of the source at a time (recorded in
    /// the argument; a crash before recording leaves a move of the source that the next look adopts). Nothing is frozen
    /// yet, so this step may give up at any time.
    /// </summary>
    private async Task<StepOutcome> ColocateAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var (map, _) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        var source = Array.Find(map.Shards, d => d.Id == op.Shard);
        var target = Array.Find(map.Shards, d => d.Id == a.Target);
        if (source is null || target is null)
        {
            return Finish($"shard {(source is null ? op.Shard : a.Target)} left the map before the merge prepared");
        }

        if (a.ChildOperation != 0)
        {
            var (child, _) = await _rows.ReadOperationAsync(a.ChildOperation, ct).ConfigureAwait(true);
            return child is not null
                ? Wait($"replica move {child.Id} of shard {child.Shard} from store {child.From} to store {child.To} is co-locating the shards")
                : Next(op, MergeOperationStep.Colocate, a with { ChildOperation = 0 });
        }

        if (!Adjacent(source.Range, target.Range) || source.Peers.Length != target.Peers.Length)
        {
            return Finish($"shard {source.Id} {source.Range} can no longer merge into shard {target.Id} {target.Range}");
        }

        foreach (var other in await _rows.ListOperationsAsync(ct).ConfigureAwait(true))
        {
            if (other.Id != op.Id && other.Shard == source.Id && other.Kind is OperationKind.MoveReplica or OperationKind.ReReplicate)
            {
                // Started by this step before a crash kept it from recording the child: adopt it.
                return Next(op, MergeOperationStep.Colocate, a with { ChildOperation = other.Id });
            }
        }

        var from = Array.Find(source.Peers, p => target.PeerOn(p.Store) is null);
        var to = Array.Find(target.Peers, p => source.PeerOn(p.Store) is null);
        if (from.PeerId == 0)
        {
            var group = await GroupAsync(source.Id, StoresOf(source), ct).ConfigureAwait(true);
            if (group.Leader?.Descriptor is not { } committed)
            {
                return Wait($"shard {source.Id} has no leader");
            }

            if (!SameStores(committed, target))
            {
                return Wait($"shard {source.Id}'s leader applied [{string.Join(",", committed.Peers)}], not yet the stores of shard {target.Id}");
            }

            // What the prepare expects: recorded before the first proposal, so a later look can prove it never applies.
            return Next(op, MergeOperationStep.Prepare, a with { SourceEpoch = committed.Epoch, SourceConfVersion = committed.ConfVersion });
        }

        if (a.MovesStarted >= 2 * target.Peers.Length)
        {
            return Finish($"shards {source.Id} and {target.Id} are not co-located after {a.MovesStarted} replica moves");
        }

        long now = _replicas.WallClockMs;
        var move = await _rows.CreateOperationAsync(
            id => new OperationRecord(id, OperationKind.MoveReplica, source.Id, 0, from.Store, to.Store, 0, now, now, ReplicaMoveRunner.SourcePeerArgument(from.PeerId)),
            ct).ConfigureAwait(true);
        return Next(op, MergeOperationStep.Colocate, a with { ChildOperation = move.Id, MovesStarted = a.MovesStarted + 1 });
    }

    private async Task<StepOutcome> PrepareAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var source = await MapDescriptorAsync(op.Shard, ct).ConfigureAwait(true);
        if (source is null)
        {
            return Wait($"shard {op.Shard} is not in the map");
        }

        var group = await GroupAsync(source.Id, StoresOf(source), ct).ConfigureAwait(true);
        foreach (var status in group.Statuses.Values)
        {
            if (status.MergingInto is { } into)
            {
                return into == a.Target
                    ? Next(op, MergeOperationStep.WaitSource, a with { PrepareIndex = (ulong)status.MergePrepareIndex, PrepareTerm = (ulong)status.MergePrepareTerm })
                    : Wait($"shard {source.Id} is merging into shard {into}, not {a.Target}");
            }
        }

        if (group.Statuses.Values.Any(s => s.Descriptor is { } d && (d.Epoch > a.SourceEpoch || d.ConfVersion > a.SourceConfVersion)))
        {
            // The source moved past what every prepare of this operation expects: none of them can ever apply.
            return Finish($"shard {source.Id} changed before it prepared");
        }

        if (group.Leader is not { } leader)
        {
            return Wait($"shard {source.Id} has no leader");
        }

        var response = await ProposeAsync(leader.Replica.Store, new MergeShardRequest
        {
            Shard = source.Id,
            Step = MergeStep.Prepare,
            ExpectedEpoch = a.SourceEpoch,
            ExpectedConfVersion = a.SourceConfVersion,
            Target = a.Target,
        }, ct).ConfigureAwait(true);
        return response.Code == NoKvErrorCode.Ok ? Again() : Wait($"prepare: {response.Code} {response.Detail}");
    }

    /// <summary>
    /// Every replica of the source must have applied the prepare (synced) before the commit is proposed: a target replica
    /// waits for its store's source replica, and once other stores commit, a source replica that missed the prepare has
    /// no peer left to learn it from.
    /// </summary>
    private async Task<StepOutcome> WaitSourceAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var (map, _) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        var source = Array.Find(map.Shards, d => d.Id == op.Shard);
        var target = Array.Find(map.Shards, d => d.Id == a.Target);
        if (source is null || target is null)
        {
            return Next(op, MergeOperationStep.Rollback, a);
        }

        var group = await GroupAsync(source.Id, StoresOf(source), ct).ConfigureAwait(true);
        var lagging = StoresOf(source).Where(store => group.Status(store) is not { MergingInto: { } into } s || into != a.Target || s.MergePrepareIndex != (long)a.PrepareIndex).ToList();
        if (lagging.Count > 0)
        {
            return TimedOut(op)
                ? Next(op, MergeOperationStep.Rollback, a)
                : Wait($"the prepare is not applied on store(s) {string.Join(",", lagging)}");
        }

        var targetGroup = await GroupAsync(target.Id, StoresOf(target), ct).ConfigureAwait(true);
        if (targetGroup.Leader?.Descriptor is not { } committed)
        {
            return TimedOut(op) ? Next(op, MergeOperationStep.Rollback, a) : Wait($"shard {target.Id} has no leader");
        }

        if (!Adjacent(committed.Range, source.Range) || !SameStores(committed, source))
        {
            return Next(op, MergeOperationStep.Rollback, a);
        }

        // The decision: recorded with what the commit expects, before the first commit is proposed.
        return Next(op, MergeOperationStep.Commit, a with { TargetEpoch = committed.Epoch, TargetConfVersion = committed.ConfVersion });
    }

    private async Task<StepOutcome> CommitAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var (map, _) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        var source = Array.Find(map.Shards, d => d.Id == op.Shard);
        var target = Array.Find(map.Shards, d => d.Id == a.Target);
        if (source is null || target is null)
        {
            return Next(op, MergeOperationStep.CommitMap, a);
        }

        var targetGroup = await GroupAsync(target.Id, StoresOf(target), ct).ConfigureAwait(true);
        if (MergedDescriptor(targetGroup, source.Range, a) is not null)
        {
            return Next(op, MergeOperationStep.CommitMap, a);
        }

        if (targetGroup.Statuses.Values.Any(s => s.Descriptor is { } d && (d.Epoch > a.TargetEpoch || d.ConfVersion > a.TargetConfVersion)))
        {
            // The target moved past what the commit expects without taking the range: the commit can never apply.
            return Next(op, MergeOperationStep.Rollback, a);
        }

        var group = await GroupAsync(source.Id, StoresOf(source), ct).ConfigureAwait(true);
        var frozen = group.Statuses.Values.FirstOrDefault(s => s.MergingInto == a.Target && s.Descriptor is not null)?.Descriptor;
        if (frozen is null)
        {
            return Wait($"no replica of shard {source.Id} answers with its frozen descriptor");
        }

        if (targetGroup.Leader is not { } leader)
        {
            return Wait($"shard {target.Id} has no leader");
        }

        var response = await ProposeAsync(leader.Replica.Store, new MergeShardRequest
        {
            Shard = target.Id,
            Step = MergeStep.Commit,
            ExpectedEpoch = a.TargetEpoch,
            ExpectedConfVersion = a.TargetConfVersion,
            Source = frozen,
            PrepareIndex = (long)a.PrepareIndex,
            PrepareTerm = (long)a.PrepareTerm,
        }, ct).ConfigureAwait(true);
        return response.Code == NoKvErrorCode.Ok ? Again() : Wait($"commit: {response.Code} {response.Detail}");
    }

    private async Task<StepOutcome> CommitMapAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var (map, row) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        var source = Array.Find(map.Shards, d => d.Id == op.Shard);
        var target = Array.Find(map.Shards, d => d.Id == a.Target);
        if (source is null || target is null)
        {
            return Next(op, MergeOperationStep.Cleanup, a);
        }

        var targetGroup = await GroupAsync(target.Id, StoresOf(target), ct).ConfigureAwait(true);
        if (MergedDescriptor(targetGroup, source.Range, a) is not { } merged)
        {
            return Wait($"no replica of shard {target.Id} answers with the merged range");
        }

        var shards = map.Shards.Where(d => d.Id != source.Id).Select(d => d.Id == target.Id ? merged : d).ToArray();
        return await _rows.SwapMapAsync(row, map with { Version = map.Version + 1, Shards = shards }, ct).ConfigureAwait(true)
            ? Next(op, MergeOperationStep.Cleanup, a)
            : Again();
    }

    /// <summary>
    /// Destroys each store's replica of the source that is still there (a target replica removes its store's copy when it
    /// applies the commit; one that skipped the commit through a snapshot removes it at install). A replica refuses while
    /// its store's target has not taken it over; a store that does not answer keeps its tombstoned copy until it returns.
    /// </summary>
    private async Task<StepOutcome> CleanupAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var target = await MapDescriptorAsync(a.Target, ct).ConfigureAwait(true);
        var left = new List<StoreId>();
        foreach (var store in target is null ? [] : StoresOf(target))
        {
            try
            {
                var status = await _replicas.StatusAsync(op.Shard, store, ct).ConfigureAwait(true);
                if (status.PeerId != 0 && (await _replicas.DestroyAsync(store, op.Shard, status.PeerId, ct).ConfigureAwait(true)).Outcome == ReplicaAdminOutcome.Refused)
                {
                    left.Add(store);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                left.Add(store);
            }
        }

        return left.Count == 0 || TimedOut(op) ? Finish(null) : Wait($"shard {op.Shard}'s replica is still on store(s) {string.Join(",", left)}");
    }

    /// <summary>Proposes the rollback until a replica past the prepare serves again (the rollback committed); the map never changed.</summary>
    private async Task<StepOutcome> RollbackAsync(OperationRecord op, MergeArgument a, CancellationToken ct)
    {
        var source = await MapDescriptorAsync(op.Shard, ct).ConfigureAwait(true);
        if (source is null)
        {
            return Finish($"shard {op.Shard} left the map");
        }

        var group = await GroupAsync(source.Id, StoresOf(source), ct).ConfigureAwait(true);
        if (group.Statuses.Values.Any(s => s.Descriptor is not null && s.MergingInto is null && s.AppliedIndex >= (long)a.PrepareIndex))
        {
            return Finish($"the merge of shard {source.Id} into shard {a.Target} rolled back (a replica did not apply the prepare in time, or a shard changed)");
        }

        if (group.Leader is not { } leader)
        {
            return Wait($"shard {source.Id} has no leader");
        }

        var response = await ProposeAsync(leader.Replica.Store, new MergeShardRequest
        {
            Shard = source.Id,
            Step = MergeStep.Rollback,
            ExpectedEpoch = a.SourceEpoch,
            PrepareIndex = (long)a.PrepareIndex,
        }, ct).ConfigureAwait(true);
        return response.Code == NoKvErrorCode.Ok ? Again() : Wait($"rollback: {response.Code} {response.Detail}");
    }

    /// <summary>The newest descriptor a target replica applied that covers the source's range above the expected epoch, or null.</summary>
    private static ShardDescriptor? MergedDescriptor(GroupView target, KeyRange source, MergeArgument a)
    {
        ShardDescriptor? merged = null;
        foreach (var status in target.Statuses.Values)
        {
            if (status.Descriptor is { } d && d.Epoch > a.TargetEpoch && Covers(d.Range, source) && (merged is null || d.Epoch > merged.Epoch || (d.Epoch == merged.Epoch && d.ConfVersion > merged.ConfVersion)))
            {
                merged = d;
            }
        }

        return merged;
    }

    private async Task<ShardDescriptor?> MapDescriptorAsync(ShardId shard, CancellationToken ct)
    {
        var (map, _) = await _rows.ReadMapAsync(ct).ConfigureAwait(true);
        return Array.Find(map.Shards, d => d.Id == shard);
    }

    private async Task<WriteResponse> ProposeAsync(StoreId store, MergeShardRequest request, CancellationToken ct)
    {
        try
        {
            return await _replicas.MergeAsync(store, request, ct).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new WriteResponse { Code = NoKvErrorCode.StoreUnavailable, Detail = e.Message };
        }
    }

    /// <summary>The statuses of the shard's replicas on <paramref name="stores"/> that answer, and the answering leader of the highest term.</summary>
    private async Task<GroupView> GroupAsync(ShardId shard, IReadOnlyList<StoreId> stores, CancellationToken ct)
    {
        var statuses = new Dictionary<StoreId, ReplicaStatus>();
        await ReplicaStatuses.AskAsync(_replicas, shard, stores, statuses, ct).ConfigureAwait(true);
        return new GroupView(ReplicaStatuses.Leader(statuses.Values), statuses);
    }

    private void Ended(long id, string? why)
    {
        if (why is null)
        {
            return;
        }

        lock (_ended)
        {
            _ended[id] = why;
            _endedOrder.Enqueue(id);
            while (_endedOrder.Count > EndReasonsKept)
            {
                _ended.Remove(_endedOrder.Dequeue());
            }
        }
    }

    private static StoreId[] StoresOf(ShardDescriptor shard) => shard.Peers.Select(p => p.Store).ToArray();

    private static bool SameStores(ShardDescriptor a, ShardDescriptor b) =>
        a.Peers.Length == b.Peers.Length && Array.TrueForAll(a.Peers, p => b.PeerOn(p.Store) is not null);

    private static bool Adjacent(KeyRange a, KeyRange b) =>
        (a.End.Length != 0 && a.End.AsSpan().SequenceEqual(b.Start)) || (b.End.Length != 0 && b.End.AsSpan().SequenceEqual(a.Start));

    private static bool Covers(KeyRange outer, KeyRange inner) =>
        outer.Start.AsSpan().SequenceCompareTo(inner.Start) <= 0
        && (outer.End.Length == 0 || (inner.End.Length != 0 && inner.End.AsSpan().SequenceCompareTo(outer.End) <= 0));

    private bool TimedOut(OperationRecord op) => _replicas.WallClockMs - op.StepSinceUnixMs > _options.StepTimeout.TotalMilliseconds;

    private static StepOutcome Next(OperationRecord op, MergeOperationStep step, MergeArgument a) => new(op with { Step = (int)step, Argument = a.Encode() }, false, null, false, null);

    private static StepOutcome Wait(string reason) => new(null, false, reason, false, null);

    private static StepOutcome Again() => new(null, false, null, true, null);

    private static StepOutcome Finish(string? why) => new(null, true, null, false, why);

    /// <param name="Why">Why the merge ended without merging (null when it merged).</param>
    private sealed record StepOutcome(OperationRecord? Next, bool Finished, string? Waiting, bool Again, string? Why);

    private sealed record GroupView(ReplicaStatus? Leader, Dictionary<StoreId, ReplicaStatus> Statuses)
    {
        public ReplicaStatus? Status(StoreId store) => Statuses.GetValueOrDefault(store);
    }
}
