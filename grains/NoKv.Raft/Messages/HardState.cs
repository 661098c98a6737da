namespace NoKv.Raft.Messages;

/// <summary>
/// The state a node must persist before it sends any message produced in the same Ready: its
/// current term, whom it voted for in that term, and the highest index it knows committed.
/// </summary>
/// <remarks>
/// Persisting Term and Vote before answering a vote request is what prevents a node from voting
/// twice in one term across a crash. Commit is persisted so a restarted node does not re-apply from
/// scratch; losing it is safe (it is re-learned from the leader) but it must never go backwards
/// below the applied index the host reports in <see cref="RaftConfig.Applied"/>.
/// </remarks>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    public static HardState Empty => default;

    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}
