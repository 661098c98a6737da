namespace NoKv.Raft.Messages;

/// <summary>The kind of one-at-a-time membership change.</summary>
/// <remarks>Written to disk inside ConfChange entries: never renumber, only append new values.</remarks>
public enum ConfChangeType : byte
{
    /// <summary>Adds a voter, or promotes an existing learner to voter.</summary>
    AddNode = 0,

    /// <summary>Removes a voter or a learner.</summary>
    RemoveNode = 1,

    /// <summary>Adds a non-voting learner (or demotes a voter to learner).</summary>
    AddLearnerNode = 2,
}
