namespace NoKv.Raft.Quorum;

/// <summary>The outcome of counting votes against a configuration.</summary>
public enum VoteResult : byte
{
    /// <summary>Neither a quorum of yes nor enough no votes to rule one out yet.</summary>
    Pending = 0,

    Lost = 1,

    Won = 2,
}
