using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// A model of one shard's replica group as the controller sees it through <see cref="IReplicaAdmin"/>: the committed
/// descriptor, the leader, each store's replica (peer, initialized, applied index, destroyed with a tombstone). It
/// enforces what the real replicas enforce (one peer per store, peer ids never reused, one change at a time) and
/// records what must never happen (a voter count below the target, the leader removed while leading, a membership
/// change that contradicts the group) as violations. Every effect is a crash point (<see cref="CrashAt"/>).
/// </summary>
internal sealed class FakeShardGroup : IReplicaAdmin
{
    private readonly Dictionary<StoreId, Replica> _replicas = new();
    private readonly Dictionary<StoreId, ulong> _tombstones = new();
    private readonly HashSet<ulong> _usedPeers = new();
    private int _effects;

    public FakeShardGroup(ShardDescriptor shard, StoreId leader)
    {
        Descriptor = shard;
        Leader = leader;
        foreach (var peer in shard.Peers)
        {
            _replicas[peer.Store] = new Replica(peer.PeerId) { Initialized = true, Applied = CommitIndex };
            _usedPeers.Add(peer.PeerId);
        }
    }

    public ShardDescriptor Descriptor { get; private set; }

    public StoreId? Leader { get; private set; }

    public long CommitIndex { get; private set; } = 100;

    public HashSet<StoreId> Down { get; } = new();

    /// <summary>Stores that refuse to create replicas (as if holding another peer).</summary>
    public HashSet<StoreId> Refusing { get; } = new();

    public List<string> Violations { get; } = new();

    public int MinimumVoters { get; init; } = 3;

    /// <summary>The effect number at which to crash (0 = never), and whether before or after the effect happens.</summary>
    public int CrashAt { get; set; }

    public bool CrashBefore { get; set; }

    public int Effects => _effects;

    public long WallClockMs { get; set; } = 1_700_000_000_000;

    public bool HasReplica(StoreId store) => _replicas.ContainsKey(store);

    public ulong Tombstone(StoreId store) => _tombstones.GetValueOrDefault(store);

    /// <summary>The current controller's life: cancelled at a crash, so the runner cannot mistake it for a failed call.</summary>
    public CancellationTokenSource Life { get; private set; } = new();

    /// <summary>A new controller takes over after a crash.</summary>
    public void Restart()
    {
        Life = new CancellationTokenSource();
        CrashAt = 0;
    }

    public T Effect<T>(string what, Func<T> effect)
    {
        _effects++;
        if (_effects == CrashAt && CrashBefore)
        {
            Crash($"before {what}");
        }

        var result = effect();
        if (_effects == CrashAt)
        {
            Crash($"after {what}");
        }

        return result;
    }

    private void Crash(string where)
    {
        LastCrash = where;
        Life.Cancel();
        throw new OperationCanceledException(where, Life.Token);
    }

    public string? LastCrash { get; private set; }

    public Task<ReplicaStatus> StatusAsync(ShardId shard, StoreId store, CancellationToken cancellationToken)
    {
        if (Down.Contains(store))
        {
            throw new TimeoutException($"store {store} is down");
        }

        if (!_replicas.TryGetValue(store, out var replica))
        {
            return Task.FromResult(Status(store, 0, null, ReplicaRole.Follower, 0, uninitialized: false));
        }

        bool member = Descriptor.Peer(replica.PeerId) is not null;
        if (member && !replica.Initialized)
        {
            // The leader's snapshot arrives between two looks.
            replica.Initialized = true;
        }
        else if (member && replica.Applied < CommitIndex)
        {
            replica.Applied = CommitIndex;
        }

        var descriptor = replica.Initialized ? Descriptor : null;
        return Task.FromResult(Status(store, replica.PeerId, descriptor, Leader == store ? ReplicaRole.Leader : ReplicaRole.Follower, replica.Applied, !replica.Initialized));
    }

    public Task<ReplicaAdminResult> CreateAsync(StoreId store, ShardDescriptor shard, ulong peerId, CancellationToken cancellationToken)
    {
        Reachable(store);
        return Task.FromResult(Effect($"create {peerId} on {store}", () =>
        {
            if (Refusing.Contains(store))
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, "refusing");
            }

            if (_replicas.TryGetValue(store, out var existing))
            {
                return existing.PeerId == peerId ? new ReplicaAdminResult(ReplicaAdminOutcome.AlreadyDone) : new ReplicaAdminResult(ReplicaAdminOutcome.Refused, "another peer");
            }

            if (peerId <= Tombstone(store) || !_usedPeers.Add(peerId))
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, "peer id used");
            }

            _replicas[store] = new Replica(peerId);
            return new ReplicaAdminResult(ReplicaAdminOutcome.Done);
        }));
    }

    public Task<WriteResponse> ChangeAsync(StoreId leader, ShardId shard, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken)
    {
        Reachable(leader);
        if (Leader != leader)
        {
            return Task.FromResult(new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = Leader });
        }

        return Task.FromResult(Effect($"{kind} {peer}", () =>
        {
            var peers = Descriptor.Peers.ToList();
            int at = peers.FindIndex(p => p.PeerId == peer.PeerId);
            switch (kind)
            {
                case MembershipChangeKind.AddLearner:
                    if (at >= 0 || peers.Any(p => p.Store == peer.Store))
                    {
                        return new WriteResponse { Code = NoKvErrorCode.InvalidRange, Detail = "contradicts the membership" };
                    }

                    peers.Add(peer with { Role = PeerRole.Learner });
                    break;
                case MembershipChangeKind.Promote:
                    if (at < 0)
                    {
                        Violations.Add($"promoting unknown peer {peer}");
                        return new WriteResponse { Code = NoKvErrorCode.InvalidRange };
                    }

                    if (_replicas.TryGetValue(peers[at].Store, out var promoted) && !promoted.Initialized)
                    {
                        Violations.Add($"promoting peer {peer} before it installed a snapshot");
                    }

                    peers[at] = peers[at] with { Role = PeerRole.Voter };
                    break;
                case MembershipChangeKind.Remove:
                    if (at < 0)
                    {
                        return new WriteResponse { Code = NoKvErrorCode.InvalidRange };
                    }

                    if (peers[at].Store == Leader)
                    {
                        Violations.Add($"removing the leader's own peer {peer}");
                    }

                    peers.RemoveAt(at);
                    break;
            }

            Descriptor = new ShardDescriptor(Descriptor.Id, Descriptor.Range, Descriptor.Epoch, Descriptor.ConfVersion + 1, peers.ToArray());
            int voters = Descriptor.Replicas.Length;
            if (kind == MembershipChangeKind.Remove && voters < MinimumVoters && Descriptor.Peers.All(p => p.PeerId != peer.PeerId) && peer.Role == PeerRole.Voter)
            {
                Violations.Add($"shard down to {voters} voters after removing {peer}");
            }

            CommitIndex++;
            return new WriteResponse { Code = NoKvErrorCode.Ok, Succeeded = true };
        }));
    }

    public Task<WriteResponse> TransferLeaderAsync(StoreId leader, ShardId shard, StoreId to, CancellationToken cancellationToken)
    {
        Reachable(leader);
        return Task.FromResult(Effect($"transfer to {to}", () =>
        {
            if (Leader == leader && Descriptor.PeerOn(to) is { Role: PeerRole.Voter } && !Down.Contains(to))
            {
                Leader = to;
            }

            return new WriteResponse { Code = NoKvErrorCode.Ok, Succeeded = true };
        }));
    }

    public Task<ReplicaAdminResult> DestroyAsync(StoreId store, ShardId shard, ulong peerId, CancellationToken cancellationToken)
    {
        Reachable(store);
        return Task.FromResult(Effect($"destroy {peerId} on {store}", () =>
        {
            if (Descriptor.Peer(peerId) is not null)
            {
                Violations.Add($"destroying peer {peerId}, still a member");
            }

            if (!_replicas.TryGetValue(store, out var replica) || replica.PeerId != peerId)
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.AlreadyDone);
            }

            _replicas.Remove(store);
            _tombstones[store] = Math.Max(Tombstone(store), peerId);
            return new ReplicaAdminResult(ReplicaAdminOutcome.Done);
        }));
    }

    /// <summary>A dead leader's group elects another voter that is up.</summary>
    public void Kill(StoreId store)
    {
        Down.Add(store);
        if (Leader == store)
        {
            Leader = Descriptor.Peers.FirstOrDefault(p => p.Role == PeerRole.Voter && !Down.Contains(p.Store)).Store;
        }
    }

    private void Reachable(StoreId store)
    {
        if (Down.Contains(store))
        {
            throw new TimeoutException($"store {store} is down");
        }
    }

    private ReplicaStatus Status(StoreId store, ulong peer, ShardDescriptor? descriptor, ReplicaRole role, long applied, bool uninitialized) => new()
    {
        Replica = new ReplicaId(Descriptor.Id, store),
        Role = role,
        Term = 1,
        CommitIndex = CommitIndex,
        AppliedIndex = applied,
        LastIndex = CommitIndex,
        FirstIndex = 1,
        Epoch = Descriptor.Epoch,
        SiloAddress = "fake",
        PeerId = peer,
        Descriptor = descriptor,
        Uninitialized = uninitialized,
    };

    private sealed class Replica(ulong peerId)
    {
        public ulong PeerId { get; } = peerId;

        public bool Initialized { get; set; }

        public long Applied { get; set; }
    }
}
