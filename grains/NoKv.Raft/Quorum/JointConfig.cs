namespace NoKv.Raft.Quorum;

/// <summary>
/// Two majority configs that must both agree: the quorum rule during a joint-consensus transition.
/// With an empty <see cref="Outgoing"/> half it is exactly <see cref="Incoming"/>. NoKV changes membership
/// one node at a time (see docs/raft.md), so the library always runs with an empty outgoing half; the
/// math is kept general so a joint transition can be added without touching callers.
/// </summary>
public sealed class JointConfig
{
    public JointConfig(MajorityConfig incoming, MajorityConfig outgoing)
    {
        Incoming = incoming ?? throw new ArgumentNullException(nameof(incoming));
        Outgoing = outgoing ?? throw new ArgumentNullException(nameof(outgoing));
    }

    public JointConfig(MajorityConfig incoming)
        : this(incoming, MajorityConfig.Empty)
    {
    }

    public MajorityConfig Incoming { get; }

    public MajorityConfig Outgoing { get; }

    public bool Contains(ulong id) => Incoming.Contains(id) || Outgoing.Contains(id);

    /// <summary>The largest index both halves have committed.</summary>
    public ulong CommittedIndex<TLookup>(TLookup lookup)
        where TLookup : IIndexLookup
    {
        var a = Incoming.CommittedIndex(lookup);
        var b = Outgoing.CommittedIndex(lookup);
        return Math.Min(a, b);
    }

    public VoteResult VoteResult(IReadOnlyDictionary<ulong, bool> votes)
    {
        var a = Incoming.VoteResult(votes);
        var b = Outgoing.VoteResult(votes);
        if (a == b)
        {
            return a;
        }

        // Either half having lost loses the whole; otherwise one is still pending.
        return a == Quorum.VoteResult.Lost || b == Quorum.VoteResult.Lost ? Quorum.VoteResult.Lost : Quorum.VoteResult.Pending;
    }

    public override string ToString() => Outgoing.Count == 0 ? Incoming.ToString() : $"{Incoming}&&{Outgoing}";
}
