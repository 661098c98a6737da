namespace NoKv.Abstractions.Status;

/// <summary>A replica's Raft role as reported by status calls.</summary>
public enum ReplicaRole : byte
{
    Follower = 0,
    Candidate = 1,
    PreCandidate = 2,
    Leader = 3,
    Learner = 4,
}
