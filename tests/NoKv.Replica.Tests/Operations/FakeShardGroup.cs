using NoKv.Abstractions.Controller;
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

    public FakeShardGroup(ShardDescriptor shard, StoreId leader, CrashPoints? crashes = null)
    {
        Crashes = crashes ?? new CrashPoints();
        Descriptor = shard;
        Leader = leader;
        foreach (var peer in shard.Peers)
        {
            _replicas[peer.Store] = new Replica(peer.PeerId) { Initialized = true, Applied = CommitIndex, ConfVersion = shard.ConfVersion };
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

    /// <summary>The crash points this group's effects count in (shared with the rows and other groups of the world).</summary>
    public CrashPoints Crashes { get; }

    public int CrashAt { get => Crashes.CrashAt; set => Crashes.CrashAt = value; }

    public bool CrashBefore { get => Crashes.CrashBefore; set => Crashes.CrashBefore = value; }

    public int Effects => Crashes.Effects;

    public long WallClockMs { get; set; } = 1_700_000_000_000;

    public bool HasReplica(StoreId store) => _replicas.ContainsKey(store);

    public ulong Tombstone(StoreId store) => _tombstones.GetValueOrDefault(store);

    public CancellationTokenSource Life => Crashes.Life;

    public string? LastCrash => Crashes.LastCrash;

    /// <summary>A new controller takes over after a crash.</summary>
    public void Restart() => Crashes.Restart();

    public T Effect<T>(string what, Func<T> effect) => Crashes.Effect(what, effect);

    /// <summary>Stores whose replica stops applying (it keeps its applied index while the group goes on).</summary>
    public HashSet<StoreId> Lagging { get; } = new();

    /// <summary>Stores whose new replica is still receiving the leader's snapshot, with the bytes it holds so far.</summary>
    public Dictionary<StoreId, long> SnapshotArriving { get; } = new();

    /// <summary>The merge this shard prepared as its source (group-wide: the entry's log position), or null.</summary>
    public (ShardId Target, long Index, long Term)? Merging { get; set; }

    /// <summary>True once a target committed the merge of this shard: every replica of it is gone.</summary>
    public bool MergedAway { get; private set; }

    /// <summary>True when the replica on <paramref name="store"/> applied everything up to <paramref name="index"/>.</summary>
    public bool Applied(StoreId store, long index) => _replicas.TryGetValue(store, out var replica) && replica.Applied >= index;

    /// <summary>Commits one more entry (the leader's replica applies it at once; the others when next asked).</summary>
    public long Append()
    {
        CommitIndex++;
        if (Leader is { } leader && _replicas.TryGetValue(leader, out var replica) && !Lagging.Contains(leader))
        {
            replica.Applied = CommitIndex;
        }

        return CommitIndex;
    }

    /// <summary>A target applied the commit of this shard's merge on every store: the replicas go, tombstoned.</summary>
    public void RemoveMergedAway()
    {
        MergedAway = true;
        foreach (var (store, replica) in _replicas.ToList())
        {
            _replicas.Remove(store);
            _tombstones[store] = Math.Max(Tombstone(store), replica.PeerId);
        }
    }

    /// <summary>Sets the committed descriptor (a merge commit applied to this target).</summary>
    public void Apply(ShardDescriptor descriptor)
    {
        Descriptor = descriptor;
        Append();
    }

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
        if (member && !replica.Initialized && !SnapshotArriving.ContainsKey(store))
        {
            // The leader's snapshot arrives between two looks.
            replica.Initialized = true;
        }
        else if (member && replica.Initialized && replica.Applied < CommitIndex && !Lagging.Contains(store))
        {
            replica.Applied = CommitIndex;
        }

        var descriptor = replica.Initialized ? Descriptor : null;
        var status = Status(store, replica.PeerId, descriptor, Leader == store ? ReplicaRole.Leader : ReplicaRole.Follower, replica.Applied, !replica.Initialized);
        if (Merging is { } merging && replica.Applied >= merging.Index)
        {
            status = new ReplicaStatus
            {
                Replica = status.Replica, Role = status.Role, Term = status.Term, CommitIndex = status.CommitIndex, AppliedIndex = status.AppliedIndex,
                LastIndex = status.LastIndex, FirstIndex = status.FirstIndex, Epoch = status.Epoch, SiloAddress = status.SiloAddress, PeerId = status.PeerId,
                Descriptor = status.Descriptor, Uninitialized = status.Uninitialized,
                MergingInto = merging.Target, MergePrepareIndex = merging.Index, MergePrepareTerm = merging.Term,
            };
        }

        return Task.FromResult(status);
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

            _replicas[store] = new Replica(peerId) { ConfVersion = shard.ConfVersion };
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

        if (Merging is not null)
        {
            // A frozen merge source: its leader refuses to propose membership changes.
            return Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, Detail = "merging" });
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
            foreach (var (store, replica) in _replicas)
            {
                // Replicas that are up apply the change (a removed one applies its own removal); a down or lagging one
                // keeps the membership it had, as a store away during a re-replication does.
                if (!Down.Contains(store) && !Lagging.Contains(store) && replica.Initialized)
                {
                    replica.ConfVersion = Descriptor.ConfVersion;
                }
            }

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

    /// <summary>What <paramref name="store"/> would report holding in a heartbeat.</summary>
    public HeldReplica[] Held(StoreId store) =>
        _replicas.TryGetValue(store, out var replica) ? [new HeldReplica(Descriptor.Id, replica.PeerId, replica.ConfVersion, replica.Initialized && Descriptor.Peer(replica.PeerId) is not null)] : [];

    public Task<ReplicaAdminResult> DestroyOrphanAsync(OrphanReplica orphan, CancellationToken cancellationToken)
    {
        var (store, peerId, mapConfVersion) = (orphan.Store, orphan.PeerId, orphan.MapConfVersion);
        Reachable(store);
        return Task.FromResult(Effect($"destroy orphan {peerId} on {store}", () =>
        {
            if (!_replicas.TryGetValue(store, out var replica) || replica.PeerId != peerId)
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.AlreadyDone);
            }

            if (orphan.MergedAway && !MergedAway)
            {
                Violations.Add($"destroying peer {peerId} on {store} as merged away, but shard {Descriptor.Id} was not");
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, "not merged away");
            }

            if (!orphan.MergedAway && replica.ConfVersion >= mapConfVersion)
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"knows membership version {replica.ConfVersion}");
            }

            if (Descriptor.Peer(peerId) is not null)
            {
                Violations.Add($"destroying orphan {peerId} on {store}, still a member");
            }

            _replicas.Remove(store);
            _tombstones[store] = Math.Max(Tombstone(store), peerId);
            return new ReplicaAdminResult(ReplicaAdminOutcome.Done);
        }));
    }

    /// <summary>Merges need two groups: <see cref="FakeMergeWorld"/> answers them.</summary>
    public Task<WriteResponse> MergeAsync(StoreId store, MergeShardRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("a single fake group does not merge; use FakeMergeWorld");

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
        SnapshotBytesReceived = SnapshotArriving.GetValueOrDefault(store),
    };

    private sealed class Replica(ulong peerId)
    {
        public ulong PeerId { get; } = peerId;

        public bool Initialized { get; set; }

        public long Applied { get; set; }

        /// <summary>The membership version of the descriptor this replica has applied (what it persists).</summary>
        public long ConfVersion { get; set; }
    }
}
