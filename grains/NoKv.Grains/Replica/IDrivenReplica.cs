namespace NoKv.Grains.Replica;

/// <summary>
/// A replica as <see cref="ReplicaDriver"/> sees it. Called from the driver's own thread (not the replica's), so
/// implementations only hand the work to the replica's scheduler and return.
/// </summary>
public interface IDrivenReplica
{
    /// <summary>One tick of the replica's clock is due. A tick still queued from before absorbs this one.</summary>
    void ScheduleTick();
}
