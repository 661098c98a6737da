namespace NoKv.Raft.Messages;

/// <summary>Every input a Raft node understands, remote messages and local events alike.</summary>
/// <remarks>
/// Values may be put on the wire by a host's transport encoding: never renumber, only append.
/// "Local" types are produced by <see cref="RawNode"/> methods and must never be sent between nodes;
/// <see cref="RawNode.Step"/> rejects them.
/// </remarks>
public enum MessageType : byte
{
    /// <summary>Local: start an election (pre-vote first when enabled).</summary>
    Hup = 0,

    /// <summary>Local: a leader's heartbeat timer fired.</summary>
    Beat = 1,

    /// <summary>Local: append entries proposed by the host.</summary>
    Propose = 2,

    /// <summary>Leader to follower: entries after (LogTerm, Index), plus the leader's commit.</summary>
    Append = 3,

    /// <summary>Follower to leader: accepted up to Index, or rejected with a hint (RejectHint, LogTerm).</summary>
    AppendResponse = 4,

    /// <summary>Candidate asks for a vote in Term for a log ending at (LogTerm, Index).</summary>
    Vote = 5,

    VoteResponse = 6,

    /// <summary>Would-be candidate asks whether it could win Term without disturbing anyone's term.</summary>
    PreVote = 7,

    PreVoteResponse = 8,

    /// <summary>Leader to follower: one chunk of a snapshot (Snapshot metadata, ChunkOffset, SnapshotSize, chunk in Snapshot.Data).</summary>
    Snapshot = 9,

    /// <summary>Follower to leader: the number of contiguous snapshot bytes it now holds (ChunkOffset) for snapshot Index.</summary>
    SnapshotResponse = 10,

    /// <summary>Leader to follower: liveness, leadership and commit (bounded by the follower's match).</summary>
    Heartbeat = 11,

    HeartbeatResponse = 12,

    /// <summary>Local: the host could not reach the node in From.</summary>
    Unreachable = 13,

    /// <summary>Local: the host reports the outcome of sending a snapshot to From (Reject = failed).</summary>
    SnapshotStatus = 14,

    /// <summary>Local: a leader's election timer fired; verify that a quorum was recently active.</summary>
    CheckQuorum = 15,

    /// <summary>Ask the leader to hand leadership to the node in From (local on the leader, or forwarded by a follower).</summary>
    TransferLeader = 16,

    /// <summary>Leader to transferee: campaign now, ignoring the election timer and leases.</summary>
    TimeoutNow = 17,

    /// <summary>Request a read index (Context identifies the request); forwarded by followers to the leader.</summary>
    ReadIndex = 18,

    /// <summary>Leader to follower: the read index (Index) for the request in Context.</summary>
    ReadIndexResponse = 19,
}
