namespace NoKv.Raft;

/// <summary>The immediate answer to a proposal, conf change, read or transfer request.</summary>
public enum ProposalStatus : byte
{
    /// <summary>Accepted into the leader's log (proposals) or queued (reads); the outcome arrives later.</summary>
    Accepted = 0,

    /// <summary>This node is not the leader. <see cref="ProposalResult.LeaderHint"/> names the leader if known (0 if not).
    /// The library never forwards proposals: the host redirects the client.</summary>
    NotLeader = 1,

    /// <summary>The leader is handing over leadership and refuses new proposals until the transfer ends.</summary>
    LeadershipTransferInProgress = 2,

    /// <summary>The uncommitted tail of the log exceeds <see cref="RaftConfig.MaxUncommittedEntriesSize"/>; retry later.</summary>
    UncommittedSizeExceeded = 3,

    /// <summary>A membership change is already in progress (or the leader has not yet committed an entry of
    /// its term); only one change may be outstanding at a time.</summary>
    ConfChangePending = 4,

    /// <summary>The request was invalid for the current state (e.g. the node is not a member, or the change is a no-op).</summary>
    Rejected = 5,
}
