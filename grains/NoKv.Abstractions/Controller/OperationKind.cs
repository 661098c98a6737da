namespace NoKv.Abstractions.Controller;

/// <summary>What an operation in progress does. Stored in the controller's operation rows: never renumber, only append.</summary>
public enum OperationKind : byte
{
    /// <summary>Replace a replica on a down store with a new one elsewhere (learner, catch up, promote, remove the dead one).</summary>
    ReReplicate = 1,

    /// <summary>Move a replica from one store to another (same steps as re-replication, source alive).</summary>
    MoveReplica = 2,

    /// <summary>Split a shard at a key.</summary>
    Split = 3,

    /// <summary>Merge a shard into its right neighbour.</summary>
    Merge = 4,

    /// <summary>Hand a shard's leadership to a store.</summary>
    TransferLeader = 5,
}
