using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;

namespace NoKv.Grains.Replica;

/// <summary>
/// A replica as <see cref="ReplicaDriver"/> sees it. Called from the driver's own thread (not the replica's), so
/// implementations only hand the work to the replica's scheduler and return.
/// </summary>
public interface IDrivenReplica
{
    /// <summary>
    /// The other stores of a hibernating replica's group, or null while it is awake. The driver ticks a hibernating
    /// replica only when one of these stores fell silent (the tick then wakes it); otherwise it costs nothing.
    /// </summary>
    IReadOnlyList<StoreId>? HibernatingWith { get; }

    /// <summary>One tick of the replica's clock is due. A tick still queued from before absorbs this one.</summary>
    void ScheduleTick();

    /// <summary>Raft messages from the peer on <paramref name="from"/> arrived (decoded by the silo's transport).</summary>
    void ScheduleDelivery(StoreId from, Message[] messages);
}
