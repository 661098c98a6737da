namespace NoKv.Abstractions.Sharding;

/// <summary>
/// One member of a shard's Raft group: its Raft peer id, the store that holds it and its role.
/// Peer ids are not store ids: a peer id names one incarnation of a replica and is never reused, so a replica
/// removed from a store and added back later is a new peer that cannot mistake an old log or vote for its own.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.PeerDescriptor")]
public readonly record struct PeerDescriptor(
    [property: Id(0)] ulong PeerId,
    [property: Id(1)] StoreId Store,
    [property: Id(2)] PeerRole Role)
{
    public override string ToString() => $"{PeerId}@{Store}{(Role == PeerRole.Learner ? "(learner)" : string.Empty)}";
}
