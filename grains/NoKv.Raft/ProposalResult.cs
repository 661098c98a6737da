namespace NoKv.Raft;

/// <summary>
/// The answer of <see cref="RawNode.Propose"/> and friends. When accepted by a leader,
/// <see cref="Index"/> and <see cref="Term"/> identify the entry: it is committed iff an entry with
/// that index and that term is later delivered in <see cref="Ready.CommittedEntries"/>; an entry at that
/// index with another term means the proposal was lost (leader change) and the host should answer its
/// client with a retryable error.
/// </summary>
public readonly record struct ProposalResult(ProposalStatus Status, ulong Index, ulong Term, ulong LeaderHint, string? Reason = null)
{
    public bool IsAccepted => Status == ProposalStatus.Accepted;

    internal static ProposalResult Accepted(ulong index, ulong term, ulong leader) => new(ProposalStatus.Accepted, index, term, leader);

    internal static ProposalResult NotLeader(ulong leader) => new(ProposalStatus.NotLeader, 0, 0, leader);

    internal static ProposalResult Fail(ProposalStatus status, ulong leader, string reason) => new(status, 0, 0, leader, reason);
}
