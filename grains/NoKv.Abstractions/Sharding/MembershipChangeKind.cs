namespace NoKv.Abstractions.Sharding;

/// <summary>One step of a shard's membership change, proposed one at a time by the controller (docs/controller.md).</summary>
public enum MembershipChangeKind : byte
{
    /// <summary>Add a new peer as a learner: it receives the log (first a snapshot) but does not vote.</summary>
    AddLearner = 1,

    /// <summary>Make a learner a voter.</summary>
    Promote = 2,

    /// <summary>Remove a peer (voter or learner) from the group.</summary>
    Remove = 3,
}
