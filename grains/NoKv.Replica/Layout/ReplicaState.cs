using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// What a store knows about its replica of one shard, persisted with the applied index: which peer it is and
/// the shard descriptor (range, epochs, members) as of the last applied entry.
/// </summary>
/// <param name="PeerId">This store's Raft peer in the group. A stored state under another peer id belongs to an
/// earlier incarnation of the replica and is never reused.</param>
/// <param name="Descriptor">The shard as of the applied index.</param>
internal sealed record ReplicaState(ulong PeerId, ShardDescriptor Descriptor);
