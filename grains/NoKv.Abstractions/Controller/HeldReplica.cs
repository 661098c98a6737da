using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// A replica a store holds on disk, active or not, as its persisted state describes it: the controller compares these
/// with the shard map to find replicas the shard removed while their store was away (orphans) and destroys them.
/// </summary>
/// <param name="ConfVersion">The membership version of the replica's own persisted descriptor.</param>
/// <param name="Member">Whether that descriptor names the replica's own peer (false for a replica created for a move
/// and still waiting for its snapshot, or one that applied its own removal).</param>
/// <param name="Range">The key range of that descriptor; null from a store running a build that did not report it, and
/// then a replica of a shard the map no longer names is left alone.</param>
/// <param name="Epoch">The range epoch of that descriptor (raised by every split and merge): a shard the map no longer
/// names was merged away when every map shard over its range has a higher one.</param>
[GenerateSerializer, Immutable, Alias("nokv.HeldReplica")]
public sealed record HeldReplica(
    [property: Id(0)] ShardId Shard,
    [property: Id(1)] ulong PeerId,
    [property: Id(2)] long ConfVersion,
    [property: Id(3)] bool Member,
    [property: Id(4)] KeyRange? Range = null,
    [property: Id(5)] long Epoch = 0);
