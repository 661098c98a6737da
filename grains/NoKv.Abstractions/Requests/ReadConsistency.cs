namespace NoKv.Abstractions.Requests;

/// <summary>How fresh a read must be. Sent on the wire: never renumber.</summary>
public enum ReadConsistency : byte
{
    /// <summary>Served by the leader after a ReadIndex round: sees every write acknowledged before the read began.</summary>
    Linearizable = 0,

    /// <summary>
    /// Served by any replica whose state is known to be at most the requested staleness behind the leader;
    /// may miss recent writes, never returns a value that was not committed.
    /// </summary>
    BoundedStaleness = 1,
}
