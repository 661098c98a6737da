namespace NoKv.Replica.Controller.Operations;

/// <summary>The steps of a merge operation (<see cref="MergeRunner"/>). Stored in operation rows: never renumber.</summary>
public enum MergeOperationStep
{
    /// <summary>Move the source's replicas onto the target's stores (one child replica move at a time).</summary>
    Colocate = 1,

    /// <summary>Propose PrepareMerge to the source's leader until a replica shows it applied.</summary>
    Prepare = 2,

    /// <summary>Wait until every replica of the source applied the prepare; past the step timeout, roll back.</summary>
    WaitSource = 3,

    /// <summary>Propose CommitMerge to the target's leader until a replica shows the merged range.</summary>
    Commit = 4,

    /// <summary>One swap of the map: the source leaves, the target gets the merged range and epoch.</summary>
    CommitMap = 5,

    /// <summary>Destroy whatever replicas of the source are left (the commit removed most), then end.</summary>
    Cleanup = 6,

    /// <summary>Propose RollbackMerge to the source until it applied, then end (the map never changed).</summary>
    Rollback = 100,
}
