namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// Checks Raft's safety properties from observations the simulated hosts report as they happen.
/// Every method throws <see cref="SafetyViolationException"/> at the first step that breaks a property.
/// </summary>
/// <remarks>
/// <para>The properties (Raft paper, figure 3) and how each is observed:</para>
/// <list type="bullet">
/// <item><b>Election safety</b>: at most one leader per term. Every node seen leading a term is
/// remembered; a second one fails.</item>
/// <item><b>Log matching</b>: two logs holding an entry with the same index and term are identical up to
/// it. Checked inductively on persisted entries: for each (index, term) there must be exactly one
/// payload and one term at index - 1 across all nodes and all time. Uniqueness at every position
/// implies identical prefixes.</item>
/// <item><b>Leader completeness</b>: an entry committed in term t is in the log of every leader of a term
/// &gt; t. The commit term of an entry is bounded from above by the term of the first node seen applying
/// it (that node learned the commit from a leader of a term no higher than its own), so the check never
/// fires falsely: a leader of term T must hold every entry whose bound is below T.</item>
/// <item><b>State-machine safety</b>: no two nodes apply different entries at one index, and each node
/// applies a contiguous sequence (or jumps forward by installing a snapshot whose state digest equals
/// the digest every other node reached at that index), so applied sequences are prefixes of one
/// another.</item>
/// </list>
/// Single-threaded. Memory grows with the number of distinct log positions seen, which is bounded by
/// the length of a run.
/// </remarks>
public sealed class SafetyChecker
{
    private readonly Dictionary<ulong, ulong> _leaderOfTerm = [];
    private readonly Dictionary<(ulong Index, ulong Term), (ulong PrevTerm, LoggedEntry Entry, ulong Node)> _positions = [];
    private readonly Dictionary<ulong, (LoggedEntry Entry, ulong CommitTermBound, ulong Node)> _committed = [];
    private readonly Dictionary<ulong, ulong> _digestAt = [];
    private readonly Dictionary<ulong, ulong> _lastApplied = [];
    private readonly Dictionary<(ulong Node, ulong Term), ulong> _votes = [];
    private readonly Dictionary<ulong, (ulong Term, ulong Commit)> _durable = [];
    private readonly SortedList<ulong, string> _membershipAfter = [];
    private string? _initialMembership;

    public ulong HighestCommittedIndex { get; private set; }

    public int TermsWithLeader => _leaderOfTerm.Count;

    public long Checks { get; private set; }

    /// <summary>The leader seen for <paramref name="term"/>, or 0.</summary>
    public ulong LeaderOf(ulong term) => _leaderOfTerm.TryGetValue(term, out var leader) ? leader : 0;

    /// <summary>Reports that <paramref name="node"/> is leader of <paramref name="term"/>.</summary>
    public void ObserveLeader(ulong node, ulong term)
    {
        Checks++;
        if (_leaderOfTerm.TryGetValue(term, out var existing))
        {
            if (existing != node)
            {
                throw new SafetyViolationException("election safety", $"term {term} has two leaders: {existing} and {node}");
            }

            return;
        }

        _leaderOfTerm[term] = node;
    }

    /// <summary>
    /// Reports that <paramref name="node"/> durably holds <paramref name="entry"/> right after an entry of
    /// term <paramref name="prevTerm"/> (the term at index - 1 in its log, or of its snapshot).
    /// </summary>
    public void ObservePersisted(ulong node, in LoggedEntry entry, ulong prevTerm)
    {
        Checks++;
        var key = (entry.Index, entry.Term);
        if (_positions.TryGetValue(key, out var seen))
        {
            if (seen.PrevTerm != prevTerm || !seen.Entry.SameContent(entry))
            {
                throw new SafetyViolationException(
                    "log matching",
                    $"node {node} holds {entry} after term {prevTerm}, but node {seen.Node} held {seen.Entry} after term {seen.PrevTerm}");
            }

            return;
        }

        _positions[key] = (prevTerm, entry, node);
    }

    /// <summary>
    /// Reports a hard state <paramref name="node"/> persisted. Durable terms never go back; a node never
    /// persists two different votes in one term (across crashes too: that is how a node votes twice);
    /// the commit index never goes back while the node runs.
    /// </summary>
    public void ObserveHardState(ulong node, ulong term, ulong vote, ulong commit)
    {
        Checks++;
        if (_durable.TryGetValue(node, out var previous))
        {
            if (term < previous.Term)
            {
                throw new SafetyViolationException("durable state", $"node {node} persisted term {term} after term {previous.Term}");
            }

            if (commit < previous.Commit)
            {
                throw new SafetyViolationException("durable state", $"node {node} persisted commit {commit} after commit {previous.Commit}");
            }
        }

        _durable[node] = (term, commit);
        if (vote == 0)
        {
            return;
        }

        if (_votes.TryGetValue((node, term), out var earlier) && earlier != vote)
        {
            throw new SafetyViolationException("election safety", $"node {node} voted for {earlier} and then for {vote} in term {term}");
        }

        _votes[(node, term)] = vote;
    }

    /// <summary>The node restarted: its running commit index starts over from what it persisted.</summary>
    public void ObserveRestart(ulong node, ulong term, ulong commit) => _durable[node] = (term, commit);

    /// <summary>
    /// Reports that <paramref name="node"/>, currently in <paramref name="nodeTerm"/>, applied
    /// <paramref name="entry"/> and its state machine digest became <paramref name="digestAfter"/>.
    /// </summary>
    public void ObserveApplied(ulong node, ulong nodeTerm, in LoggedEntry entry, ulong digestAfter)
    {
        Checks++;
        var last = _lastApplied.GetValueOrDefault(node);
        if (entry.Index != last + 1)
        {
            throw new SafetyViolationException(
                "state-machine safety",
                $"node {node} applied index {entry.Index} right after index {last} (applied entries must be contiguous)");
        }

        _lastApplied[node] = entry.Index;
        if (_committed.TryGetValue(entry.Index, out var seen))
        {
            if (!seen.Entry.SameContent(entry))
            {
                throw new SafetyViolationException(
                    "state-machine safety",
                    $"node {node} applied {entry} at index {entry.Index}, but node {seen.Node} applied {seen.Entry}");
            }

            if (nodeTerm < seen.CommitTermBound)
            {
                _committed[entry.Index] = (seen.Entry, nodeTerm, seen.Node);
            }
        }
        else
        {
            _committed[entry.Index] = (entry, nodeTerm, node);
            HighestCommittedIndex = Math.Max(HighestCommittedIndex, entry.Index);
        }

        CheckDigest(node, entry.Index, digestAfter, "applying");
    }

    /// <summary>
    /// Reports that <paramref name="node"/> replaced its state machine with a snapshot at
    /// <paramref name="index"/> whose digest is <paramref name="digest"/>. A running node may only move
    /// forward; a restarting node (<paramref name="restart"/>) starts over from its own snapshot.
    /// </summary>
    public void ObserveSnapshotRestored(ulong node, ulong index, ulong digest, bool restart)
    {
        Checks++;
        var last = _lastApplied.GetValueOrDefault(node);
        if (!restart && index <= last && index != 0)
        {
            throw new SafetyViolationException(
                "state-machine safety",
                $"node {node} installed a snapshot at index {index} although it had applied up to {last} (applied state went backwards)");
        }

        _lastApplied[node] = index;
        if (index != 0)
        {
            CheckDigest(node, index, digest, "restoring a snapshot at");
        }
    }

    /// <summary>
    /// Checks that <paramref name="node"/>, leader of <paramref name="term"/>, holds every entry known to be
    /// committed in an earlier term. <paramref name="entryAt"/> returns the node's entry at an index, or
    /// null if its log does not reach it; indexes below <paramref name="firstIndex"/> are covered by the
    /// node's snapshot, which holds only committed state (checked when restored).
    /// </summary>
    public void CheckLeaderCompleteness(ulong node, ulong term, ulong firstIndex, Func<ulong, LoggedEntry?> entryAt)
    {
        Checks++;
        foreach (var (index, committed) in _committed)
        {
            if (index < firstIndex || committed.CommitTermBound >= term)
            {
                continue;
            }

            var held = entryAt(index);
            if (held is null || !held.Value.SameContent(committed.Entry))
            {
                throw new SafetyViolationException(
                    "leader completeness",
                    $"leader {node} of term {term} holds {(held is null ? "nothing" : held.Value.ToString())} at index {index}, "
                    + $"where {committed.Entry} was committed by term {committed.CommitTermBound} (applied by node {committed.Node})");
            }
        }
    }

    /// <summary>The founding membership (what holds before any membership entry of a real term).</summary>
    public void ObserveInitialMembership(string membership) => _initialMembership ??= membership;

    /// <summary>
    /// Reports the membership <paramref name="node"/> uses after applying the membership entry at
    /// <paramref name="index"/> (created in a real term, not a bootstrap entry). Membership is replicated
    /// state too: every node must reach the same membership at the same index.
    /// </summary>
    public void ObserveMembershipApplied(ulong node, ulong index, string membership)
    {
        Checks++;
        if (_membershipAfter.TryGetValue(index, out var seen))
        {
            if (seen != membership)
            {
                throw new SafetyViolationException("membership safety", $"node {node} has membership {membership} after index {index}, others had {seen}");
            }

            return;
        }

        _membershipAfter[index] = membership;
    }

    /// <summary>
    /// Reports that <paramref name="node"/> restored (from a snapshot or its durable state) to applied
    /// index <paramref name="index"/> with <paramref name="membership"/>; it must be the membership as of
    /// that index, not a later or earlier one.
    /// </summary>
    public void ObserveMembershipRestored(ulong node, ulong index, string membership)
    {
        Checks++;
        string? expected = _initialMembership;
        var keys = _membershipAfter.Keys;
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (keys[mid] <= index)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        if (lo > 0)
        {
            expected = _membershipAfter.Values[lo - 1];
        }

        if (expected is not null && expected != membership)
        {
            throw new SafetyViolationException(
                "membership safety",
                $"node {node} restored to index {index} with membership {membership}, but the membership as of index {index} is {expected}");
        }
    }

    /// <summary>The entry applied at <paramref name="index"/> by the first node that applied it.</summary>
    public bool TryGetCommitted(ulong index, out LoggedEntry entry)
    {
        if (_committed.TryGetValue(index, out var seen))
        {
            entry = seen.Entry;
            return true;
        }

        entry = default;
        return false;
    }

    public ulong LastAppliedOf(ulong node) => _lastApplied.GetValueOrDefault(node);

    private void CheckDigest(ulong node, ulong index, ulong digest, string what)
    {
        if (_digestAt.TryGetValue(index, out var expected))
        {
            if (expected != digest)
            {
                throw new SafetyViolationException(
                    "state-machine safety",
                    $"node {node} reached state digest {digest:x16} {what} index {index}, others reached {expected:x16}");
            }

            return;
        }

        _digestAt[index] = digest;
    }
}
