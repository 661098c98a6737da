namespace NoKv.Raft.Messages;

/// <summary>The membership of a group at some log index: who votes and who only learns.</summary>
/// <remarks>
/// Stored with every snapshot. A node is in at most one of the two sets. Ids are never 0 (0 means
/// "no node" throughout the library). Sorted ascending when produced by the library.
/// </remarks>
public sealed record ConfState(IReadOnlyList<ulong> Voters, IReadOnlyList<ulong> Learners)
{
    public static ConfState Empty { get; } = new([], []);

    public ConfState(params ulong[] voters)
        : this(voters, [])
    {
    }

    public bool Equals(ConfState? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    public override int GetHashCode() => HashCode.Combine(Voters.Count, Learners.Count);

    public override string ToString() => $"voters=({string.Join(' ', Voters)}) learners=({string.Join(' ', Learners)})";
}
