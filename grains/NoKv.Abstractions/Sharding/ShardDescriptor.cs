namespace NoKv.Abstractions.Sharding;

/// <summary>
/// One shard: its key range, its epoch, its membership version and the peers of its Raft group.
/// Two versions, as in TiKV's region epoch: <see cref="Epoch"/> grows whenever the range changes (split, merge);
/// a request carries the epoch the client routed with, and a replica whose epoch differs answers WrongShard, so
/// no request is ever applied against a range the client did not mean. <see cref="ConfVersion"/> grows with
/// every membership change; routing tolerates a stale member list (a NotLeader answer carries the leader).
/// A replica's descriptor is replicated state: it changes only through committed log entries and is recovered
/// from the store's engine, never from a bootstrap layout once the replica exists.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ShardDescriptor")]
public sealed class ShardDescriptor
{
    // Derived from Peers on first use (deserialization does not run the constructor).
    [NonSerialized]
    private StoreId[]? _voterStores;

    public ShardDescriptor(ShardId id, KeyRange range, long epoch, long confVersion, PeerDescriptor[] peers)
    {
        ArgumentNullException.ThrowIfNull(range);
        ArgumentNullException.ThrowIfNull(peers);
        if (epoch <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "A shard epoch starts at 1.");
        }

        if (confVersion <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(confVersion), confVersion, "A shard's membership version starts at 1.");
        }

        for (int i = 0; i < peers.Length; i++)
        {
            if (peers[i].PeerId == 0 || !peers[i].Store.IsValid || peers[i].Role is not (PeerRole.Voter or PeerRole.Learner))
            {
                throw new ArgumentException($"Peer {peers[i]} of shard {id} is not valid (peer ids and store ids start at 1).", nameof(peers));
            }

            for (int j = 0; j < i; j++)
            {
                if (peers[j].PeerId == peers[i].PeerId || peers[j].Store == peers[i].Store)
                {
                    throw new ArgumentException($"Shard {id} lists peer {peers[i].PeerId} or store {peers[i].Store} twice.", nameof(peers));
                }
            }
        }

        Id = id;
        Range = range;
        Epoch = epoch;
        ConfVersion = confVersion;
        Peers = peers;
    }

    [Id(0)]
    public ShardId Id { get; }

    [Id(1)]
    public KeyRange Range { get; }

    [Id(2)]
    public long Epoch { get; }

    /// <summary>The group's members, distinct by peer id and by store, in a stable order. Never mutated.</summary>
    [Id(3)]
    public PeerDescriptor[] Peers { get; }

    [Id(4)]
    public long ConfVersion { get; }

    /// <summary>Stores holding a voting replica, in <see cref="Peers"/> order; the first is the preferred leader.</summary>
    public StoreId[] Replicas => _voterStores ??= VoterStores(Peers);

    public bool HasReplicaOn(StoreId store) => PeerOn(store) is not null;

    /// <summary>The peer this shard has on <paramref name="store"/> (voter or learner), or null.</summary>
    public PeerDescriptor? PeerOn(StoreId store)
    {
        foreach (var peer in Peers)
        {
            if (peer.Store == store)
            {
                return peer;
            }
        }

        return null;
    }

    /// <summary>The member with Raft id <paramref name="peerId"/>, or null.</summary>
    public PeerDescriptor? Peer(ulong peerId)
    {
        foreach (var peer in Peers)
        {
            if (peer.PeerId == peerId)
            {
                return peer;
            }
        }

        return null;
    }

    public ReplicaId ReplicaOn(StoreId store) => new(Id, store);

    public override string ToString() => $"shard {Id} {Range} epoch {Epoch} conf {ConfVersion} peers [{string.Join(",", Peers)}]";

    private static StoreId[] VoterStores(PeerDescriptor[] peers)
    {
        int count = 0;
        foreach (var peer in peers)
        {
            count += peer.Role == PeerRole.Voter ? 1 : 0;
        }

        var stores = new StoreId[count];
        int at = 0;
        foreach (var peer in peers)
        {
            if (peer.Role == PeerRole.Voter)
            {
                stores[at++] = peer.Store;
            }
        }

        return stores;
    }
}
