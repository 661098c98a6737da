namespace NoKv.Abstractions.Transactions;

/// <summary>What a <see cref="TxnRequest"/> asks a shard to do (docs/transactions.md). On the wire: never renumber.</summary>
public enum TxnOp : byte
{
    /// <summary>Snapshot read of <see cref="TxnRequest.Key"/> at <see cref="TxnRequest.StartTs"/>.</summary>
    Get = 1,

    /// <summary>Snapshot scan of [Key, End) at StartTs, at most Limit entries.</summary>
    Scan = 2,

    /// <summary>Lock Mutations for the transaction StartTs with primary PrimaryKey (Raft command).</summary>
    Prewrite = 3,

    /// <summary>Turn the transaction's locks on Keys into versions at CommitTs (Raft command).</summary>
    Commit = 4,

    /// <summary>Remove the transaction's locks on Keys; on its primary, record it rolled back (Raft command).</summary>
    Rollback = 5,

    /// <summary>Ask the primary PrimaryKey what became of transaction StartTs; roll it back if its lock expired (Raft command).</summary>
    CheckStatus = 6,

    /// <summary>A transaction whose keys all live in this shard: validate and commit in one Raft command.</summary>
    OnePhase = 7,

    /// <summary>Check that nothing read at StartTs (Keys, Ranges) changed up to CommitTs; a read, not a command.</summary>
    Validate = 8,

    /// <summary>
    /// Snapshot read of every key of <see cref="TxnRequest.Keys"/> at StartTs, answered in one
    /// <see cref="TxnResponse.Values"/>; KeyLocked with the first lock met when any key holds one the read must resolve.
    /// </summary>
    GetMany = 9,

    /// <summary>
    /// The secondary commits of several committed transactions in this shard (<see cref="TxnRequest.Batch"/>, each a
    /// <see cref="Commit"/> without a primary key), proposed together and answered once all applied.
    /// </summary>
    CommitBatch = 10,

    /// <summary>
    /// The primary's shard of a transaction whose other shards are prewritten: validate this shard's writes (and reads)
    /// and commit them at once, as the transaction's primary (<see cref="TxnRequest.PrimaryKey"/> = the first mutation),
    /// at a commit timestamp the shard stamps above <see cref="TxnRequest.MinCommitTs"/>; the commit point. Refused
    /// (TxnAborted) once the transaction was recorded rolled back.
    /// </summary>
    OnePhasePrimary = 11,
}
