using NoKv.Raft.Messages;

namespace NoKv.Raft.Membership;

/// <summary>
/// Computes the membership that results from applying one <see cref="ConfChange"/> to a
/// <see cref="ConfState"/>, without touching the live configuration. Pure and allocation-light;
/// rejects changes that are invalid (id 0) and reports no-ops.
/// </summary>
/// <remarks>
/// One-at-a-time rule: every change alters the voter set by at most one node (add a voter, remove a
/// voter, promote a learner, demote a voter to learner, add or remove a learner), so any majority of
/// the old voters intersects any majority of the new voters. docs/raft.md has the full argument.
/// </remarks>
public static class ConfChanger
{
    /// <summary>Returns the new membership; <paramref name="changed"/> is false if the change is a no-op.</summary>
    /// <exception cref="ArgumentException">The change names node 0 or an undefined change type.</exception>
    public static ConfState Apply(ConfState current, ConfChange change, out bool changed)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(change);
        if (change.NodeId == 0)
        {
            throw new ArgumentException("A membership change cannot name node 0.", nameof(change));
        }

        var voters = new SortedSet<ulong>(current.Voters);
        var learners = new SortedSet<ulong>(current.Learners);
        var id = change.NodeId;
        switch (change.Type)
        {
            case ConfChangeType.AddNode:
                learners.Remove(id);
                changed = voters.Add(id);
                break;
            case ConfChangeType.AddLearnerNode:
                var wasVoter = voters.Remove(id);
                changed = learners.Add(id) || wasVoter;
                break;
            case ConfChangeType.RemoveNode:
                changed = voters.Remove(id) | learners.Remove(id);
                break;
            default:
                throw new ArgumentException($"Unknown ConfChangeType {change.Type}.", nameof(change));
        }

        return changed ? new ConfState(voters.ToArray(), learners.ToArray()) : current;
    }
}
