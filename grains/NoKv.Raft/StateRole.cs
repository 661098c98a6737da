namespace NoKv.Raft;

/// <summary>The role a node currently plays in its group.</summary>
public enum StateRole : byte
{
    Follower = 0,
    Candidate = 1,
    Leader = 2,
    PreCandidate = 3,
}
