namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// The steps of a replica move or re-replication (<see cref="ReplicaMoveRunner"/>), as recorded in the operation row's
/// step field. On disk: never renumber. Steps below <see cref="Promote"/> can be rolled back; from the promotion on,
/// the operation only goes forward (the new peer votes; removing it again would gain nothing).
/// </summary>
public enum MoveStep
{
    /// <summary>Take a new peer id from the map's allocator.</summary>
    AllocatePeer = 0,

    /// <summary>Create the empty replica on the target store.</summary>
    CreateReplica = 1,

    /// <summary>Add the new peer to the group as a learner.</summary>
    AddLearner = 2,

    /// <summary>Wait until the learner installed its snapshot and applied about as far as the leader committed.</summary>
    CatchUp = 3,

    /// <summary>Promote the learner to voter.</summary>
    Promote = 4,

    /// <summary>Publish the new voter in the map, so clients can follow a leader there.</summary>
    PublishVoter = 5,

    /// <summary>If the source store leads, hand leadership to the new voter.</summary>
    TransferLeader = 6,

    /// <summary>Remove the source peer from the group.</summary>
    RemoveSource = 7,

    /// <summary>Commit the shard's final membership to the map.</summary>
    CommitMap = 8,

    /// <summary>Destroy the removed replica on the source store (log, state, data no other local replica covers).</summary>
    DestroySource = 9,

    /// <summary>Rollback: remove the learner added for the target.</summary>
    RollbackRemoveLearner = 100,

    /// <summary>Rollback: destroy the target's replica.</summary>
    RollbackDestroyTarget = 101,
}
