using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// Several shards' groups (<see cref="FakeShardGroup"/>) as the controller sees them, with the replicas' merge rules:
/// a prepare freezes the source (refused for another epoch or conf version), a commit is checked on the target's
/// replicated state (epoch, conf version, adjacency, co-location) and refused while the leader's store has no final
/// copy of the source, a rollback needs the prepare it names. It records as violations what the controller must never
/// cause: a commit while some source replica has not applied the prepare (that target replica would wait forever), a
/// commit and a rollback of the same prepare both proposed, a rollback after the commit applied. Every effect is a
/// crash point of the shared <see cref="CrashPoints"/>.
/// </summary>
internal sealed class FakeMergeWorld : IReplicaAdmin
{
    private readonly Dictionary<ShardId, FakeShardGroup> _groups = new();
    private readonly HashSet<(ShardId Source, long Prepare, MergeStep Step)> _proposed = new();

    public CrashPoints Crashes { get; } = new();

    public long WallClockMs { get; set; } = 1_700_000_000_000;

    public List<string> Violations { get; } = new();

    public FakeShardGroup Add(ShardDescriptor shard, StoreId leader)
    {
        var group = new FakeShardGroup(shard, leader, Crashes);
        _groups[shard.Id] = group;
        return group;
    }

    public FakeShardGroup this[ShardId shard] => _groups[shard];

    public IEnumerable<string> AllViolations => Violations.Concat(_groups.Values.SelectMany(g => g.Violations));

    public Task<ReplicaStatus> StatusAsync(ShardId shard, StoreId store, CancellationToken cancellationToken) => _groups[shard].StatusAsync(shard, store, cancellationToken);

    public Task<ReplicaAdminResult> CreateAsync(StoreId store, ShardDescriptor shard, ulong peerId, CancellationToken cancellationToken) => _groups[shard.Id].CreateAsync(store, shard, peerId, cancellationToken);

    public Task<WriteResponse> ChangeAsync(StoreId leader, ShardId shard, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken) =>
        _groups[shard].ChangeAsync(leader, shard, kind, peer, cancellationToken);

    public Task<WriteResponse> TransferLeaderAsync(StoreId leader, ShardId shard, StoreId to, CancellationToken cancellationToken) =>
        _groups[shard].TransferLeaderAsync(leader, shard, to, cancellationToken);

    public Task<ReplicaAdminResult> DestroyAsync(StoreId store, ShardId shard, ulong peerId, CancellationToken cancellationToken)
    {
        var group = _groups[shard];
        if (group.Merging is not null && !group.MergedAway)
        {
            // A prepared source's replica refuses while its store's target has not taken it over.
            Reachable(group, store);
            return Task.FromResult(new ReplicaAdminResult(ReplicaAdminOutcome.Refused, "its target has not taken it over"));
        }

        return group.MergedAway ? Task.FromResult(new ReplicaAdminResult(ReplicaAdminOutcome.AlreadyDone)) : group.DestroyAsync(store, shard, peerId, cancellationToken);
    }

    public Task<ReplicaAdminResult> DestroyOrphanAsync(OrphanReplica orphan, CancellationToken cancellationToken) =>
        _groups[orphan.Shard].DestroyOrphanAsync(orphan, cancellationToken);

    public Task<WriteResponse> MergeAsync(StoreId store, MergeShardRequest request, CancellationToken cancellationToken)
    {
        var group = _groups[request.Shard];
        Reachable(group, store);
        if (group.Leader != store)
        {
            return Task.FromResult(new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = group.Leader });
        }

        return Task.FromResult(request.Step switch
        {
            MergeStep.Prepare => Prepare(group, request),
            MergeStep.Commit => Commit(group, request),
            MergeStep.Rollback => Rollback(group, request),
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        });
    }

    private WriteResponse Prepare(FakeShardGroup source, MergeShardRequest request)
    {
        if (source.Merging is not null || source.MergedAway)
        {
            return new WriteResponse { Code = NoKvErrorCode.InvalidRange, Detail = "already merging" };
        }

        if (request.ExpectedEpoch != source.Descriptor.Epoch || request.ExpectedConfVersion != source.Descriptor.ConfVersion)
        {
            return new WriteResponse { Code = NoKvErrorCode.WrongShard };
        }

        return Crashes.Effect($"prepare {source.Descriptor.Id} into {request.Target}", () =>
        {
            long index = source.CommitIndex + 1;
            source.Merging = (request.Target, index, 1);
            source.Append();
            return Ok();
        });
    }

    private WriteResponse Commit(FakeShardGroup target, MergeShardRequest request)
    {
        var shard = target.Descriptor;
        var frozen = request.Source!;
        var source = _groups[frozen.Id];
        if (request.ExpectedEpoch != shard.Epoch || request.ExpectedConfVersion != shard.ConfVersion)
        {
            return new WriteResponse { Code = NoKvErrorCode.WrongShard };
        }

        bool adjacent = (shard.Range.End.Length != 0 && shard.Range.End.AsSpan().SequenceEqual(frozen.Range.Start))
            || (frozen.Range.End.Length != 0 && frozen.Range.End.AsSpan().SequenceEqual(shard.Range.Start));
        if (!adjacent || frozen.Peers.Length != shard.Peers.Length || Array.Exists(shard.Peers, p => frozen.PeerOn(p.Store) is null))
        {
            return new WriteResponse { Code = NoKvErrorCode.InvalidRange };
        }

        if (source.Merging is not { } merging || merging.Index != request.PrepareIndex || !source.Applied(target.Leader!.Value, merging.Index))
        {
            return new WriteResponse { Code = NoKvErrorCode.StoreUnavailable, Detail = "the source is not final on the leader's store" };
        }

        Propose(frozen.Id, request.PrepareIndex, MergeStep.Commit);
        return Crashes.Effect($"commit {frozen.Id} into {shard.Id}", () =>
        {
            foreach (var peer in frozen.Peers)
            {
                if (!source.Applied(peer.Store, merging.Index))
                {
                    Violations.Add($"commit of shard {frozen.Id} into {shard.Id} while store {peer.Store}'s source replica has not applied the prepare");
                }
            }

            bool sourceFirst = frozen.Range.End.AsSpan().SequenceEqual(shard.Range.Start) && frozen.Range.End.Length != 0;
            var range = sourceFirst ? new KeyRange(frozen.Range.Start, shard.Range.End) : new KeyRange(shard.Range.Start, frozen.Range.End);
            target.Apply(new ShardDescriptor(shard.Id, range, Math.Max(shard.Epoch, frozen.Epoch) + 1, shard.ConfVersion, shard.Peers));
            source.RemoveMergedAway();
            return Ok();
        });
    }

    private WriteResponse Rollback(FakeShardGroup source, MergeShardRequest request)
    {
        if (source.Merging is not { } merging || merging.Index != request.PrepareIndex)
        {
            return new WriteResponse { Code = NoKvErrorCode.InvalidRange };
        }

        if (request.ExpectedEpoch != source.Descriptor.Epoch)
        {
            return new WriteResponse { Code = NoKvErrorCode.WrongShard };
        }

        Propose(source.Descriptor.Id, request.PrepareIndex, MergeStep.Rollback);
        return Crashes.Effect($"rollback {source.Descriptor.Id}", () =>
        {
            if (source.MergedAway)
            {
                Violations.Add($"rollback of shard {source.Descriptor.Id} after its merge committed");
            }

            source.Merging = null;
            source.Append();
            return Ok();
        });
    }

    private void Propose(ShardId source, long prepare, MergeStep step)
    {
        _proposed.Add((source, prepare, step));
        if (_proposed.Contains((source, prepare, MergeStep.Commit)) && _proposed.Contains((source, prepare, MergeStep.Rollback)))
        {
            Violations.Add($"both a commit and a rollback of shard {source}'s prepare at {prepare} were proposed");
        }
    }

    private static void Reachable(FakeShardGroup group, StoreId store)
    {
        if (group.Down.Contains(store))
        {
            throw new TimeoutException($"store {store} is down");
        }
    }

    private static WriteResponse Ok() => new() { Code = NoKvErrorCode.Ok, Succeeded = true };
}
