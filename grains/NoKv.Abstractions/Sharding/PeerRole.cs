namespace NoKv.Abstractions.Sharding;

/// <summary>A replica's part in its shard's Raft group. Stored in shard descriptors on disk: never renumber.</summary>
public enum PeerRole : byte
{
    /// <summary>Counts toward quorum and may lead.</summary>
    Voter = 1,

    /// <summary>Receives the log but does not vote (a replica being added, catching up).</summary>
    Learner = 2,
}
