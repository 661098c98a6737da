namespace NoKv.Raft;

/// <summary>How a leader confirms it may serve a read at its commit index.</summary>
public enum ReadOnlyOption : byte
{
    /// <summary>
    /// ReadIndex: the leader records its commit index and confirms leadership with a heartbeat round
    /// acknowledged by a quorum before releasing the read. Correct under any clock behaviour; costs one
    /// round trip (shared by all reads queued at that moment).
    /// </summary>
    Safe = 0,

    /// <summary>
    /// Lease read: the leader answers immediately while its check-quorum lease holds (a quorum was
    /// active within the last election timeout). No round trip, but correct only if clocks advance at
    /// nearly the same rate on all nodes (bounded drift; see docs/raft.md). Requires CheckQuorum;
    /// without it a lease read is served as <see cref="Safe"/>.
    /// </summary>
    LeaseBased = 1,
}
