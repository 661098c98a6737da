using NoKv.Raft.Messages;
using NoKv.Raft.Quorum;

namespace NoKv.Raft.Tracker;

/// <summary>
/// The membership a node currently uses and, on a leader, the progress of every member.
/// Followers keep the same structure (with meaningless progress) so a new leader starts from it.
/// </summary>
/// <remarks>Iteration (<see cref="Ids"/>) is in ascending id order so runs are reproducible.</remarks>
internal sealed class ProgressTracker
{
    private readonly Dictionary<ulong, Progress> progress = new();
    private readonly Dictionary<ulong, bool> votes = new();
    private readonly int maxInflight;
    private readonly ulong maxInflightBytes;
    private ulong[] ids = [];
    private ulong[] learners = [];

    public ProgressTracker(int maxInflight, ulong maxInflightBytes = 0)
    {
        this.maxInflight = maxInflight;
        this.maxInflightBytes = maxInflightBytes;
        Voters = new JointConfig(MajorityConfig.Empty);
    }

    public JointConfig Voters { get; private set; }

    /// <summary>Every member (voters and learners), ascending.</summary>
    public ReadOnlySpan<ulong> Ids => ids;

    public ReadOnlySpan<ulong> Learners => learners;

    public int Count => ids.Length;

    public bool IsSingleton => Voters.Incoming.Count == 1 && Voters.Outgoing.Count == 0;

    public Progress? Get(ulong id) => progress.GetValueOrDefault(id);

    public bool Contains(ulong id) => progress.ContainsKey(id);

    public bool IsVoter(ulong id) => Voters.Contains(id);

    public ConfState ConfState() => new(Voters.Incoming.Ids.ToArray(), learners.ToArray());

    /// <summary>
    /// Switches to the membership <paramref name="state"/>. Existing members keep their progress;
    /// new members start probing at <paramref name="nextIndex"/>; departed members are dropped.
    /// </summary>
    public void SetConfig(ConfState state, ulong nextIndex)
    {
        var voterConfig = new MajorityConfig(state.Voters);
        var learnerSet = new SortedSet<ulong>(state.Learners);
        foreach (var v in voterConfig.Ids)
        {
            if (learnerSet.Contains(v))
            {
                throw new ArgumentException($"Node {v} cannot be both voter and learner.", nameof(state));
            }
        }

        if (learnerSet.Contains(0))
        {
            throw new ArgumentException("Learner id 0 is reserved for \"no node\".", nameof(state));
        }

        var all = new SortedSet<ulong>(voterConfig.Ids.ToArray());
        all.UnionWith(learnerSet);

        var stale = new List<ulong>();
        foreach (var id in progress.Keys)
        {
            if (!all.Contains(id))
            {
                stale.Add(id);
            }
        }

        foreach (var id in stale)
        {
            progress[id].ReleaseSnapshot();
            progress.Remove(id);
        }

        foreach (var id in all)
        {
            var isLearner = learnerSet.Contains(id);
            if (progress.TryGetValue(id, out var pr))
            {
                pr.IsLearner = isLearner;
            }
            else
            {
                // A new member starts probing at the leader's last index; it is treated as recently
                // active so it does not immediately count against check-quorum.
                progress[id] = new Progress(nextIndex, maxInflight, isLearner, maxInflightBytes) { RecentActive = true };
            }
        }

        Voters = new JointConfig(voterConfig);
        learners = [.. learnerSet];
        ids = [.. all];
    }

    /// <summary>
    /// Stops every snapshot stream and releases its payload (the node is being released by its host). A follower that
    /// was being sent one goes back to Probe, so a node stepped after this asks its storage for a snapshot again.
    /// </summary>
    public void ReleaseSnapshots()
    {
        foreach (var pr in progress.Values)
        {
            if (pr.State == ProgressState.Snapshot)
            {
                pr.BecomeProbe();
            }

            pr.ReleaseSnapshot();
        }
    }

    /// <summary>The highest index replicated on a quorum of voters.</summary>
    public ulong Committed() => Voters.CommittedIndex(new MatchLookup(progress));

    /// <summary>The highest heartbeat round acknowledged by a quorum of voters in this term.</summary>
    public ulong QuorumAckedRound() => Voters.CommittedIndex(new AckedRoundLookup(progress));

    /// <summary>The latest heartbeat send tick acknowledged by a quorum of voters in this term (0 = none).</summary>
    public ulong QuorumAckedSendTick() => Voters.CommittedIndex(new AckedSendTickLookup(progress));

    /// <summary>True if a quorum of voters was heard from since the last reset (<paramref name="selfId"/>, the leader, always counts).</summary>
    public bool QuorumActive(ulong selfId)
    {
        votes.Clear();
        foreach (var id in ids)
        {
            var pr = progress[id];
            if (!pr.IsLearner)
            {
                votes[id] = id == selfId || pr.RecentActive;
            }
        }

        var won = Voters.VoteResult(votes) == VoteResult.Won;
        votes.Clear();
        return won;
    }

    public void ResetVotes() => votes.Clear();

    /// <summary>Records a vote from <paramref name="id"/> (the first vote from a node counts).</summary>
    public void RecordVote(ulong id, bool granted) => votes.TryAdd(id, granted);

    public (int Granted, int Rejected, VoteResult Result) TallyVotes()
    {
        int granted = 0, rejected = 0;
        foreach (var id in ids)
        {
            if (!progress[id].IsLearner && votes.TryGetValue(id, out var v))
            {
                if (v)
                {
                    granted++;
                }
                else
                {
                    rejected++;
                }
            }
        }

        return (granted, rejected, Voters.VoteResult(votes));
    }

    /// <summary>Re-initializes every member's progress (a node becoming leader, or resetting its view).</summary>
    public void ResetAll(ulong lastIndex, ulong selfId)
    {
        foreach (var id in ids)
        {
            var pr = progress[id];
            pr.ReleaseSnapshot();
            var isLearner = pr.IsLearner;
            var fresh = new Progress(lastIndex + 1, maxInflight, isLearner, maxInflightBytes);
            if (id == selfId)
            {
                fresh.Match = lastIndex;
            }

            progress[id] = fresh;
        }
    }

    private readonly struct MatchLookup(Dictionary<ulong, Progress> map) : IIndexLookup
    {
        public bool TryGetIndex(ulong id, out ulong index)
        {
            if (map.TryGetValue(id, out var pr))
            {
                index = pr.Match;
                return true;
            }

            index = 0;
            return false;
        }
    }

    private readonly struct AckedRoundLookup(Dictionary<ulong, Progress> map) : IIndexLookup
    {
        public bool TryGetIndex(ulong id, out ulong index)
        {
            if (map.TryGetValue(id, out var pr))
            {
                index = pr.AckedRound;
                return true;
            }

            index = 0;
            return false;
        }
    }

    private readonly struct AckedSendTickLookup(Dictionary<ulong, Progress> map) : IIndexLookup
    {
        public bool TryGetIndex(ulong id, out ulong index)
        {
            if (map.TryGetValue(id, out var pr))
            {
                index = pr.AckedSendTick;
                return true;
            }

            index = 0;
            return false;
        }
    }
}
