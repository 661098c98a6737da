using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Transactions;

/// <summary>
/// One transactional request to one shard (docs/transactions.md). Every key it names must lie in the shard's
/// range at <see cref="Epoch"/>, else the whole request is answered WrongShard and nothing changes.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.TxnRequest")]
public sealed class TxnRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required long Epoch { get; init; }

    [Id(2)] public required TxnOp Op { get; init; }

    /// <summary>The transaction's start (snapshot) timestamp; for CheckStatus, the transaction asked about.</summary>
    [Id(3)] public long StartTs { get; init; }

    /// <summary>Commit: the commit timestamp. Validate: the timestamp up to which reads must be unchanged.</summary>
    [Id(4)] public long CommitTs { get; init; }

    /// <summary>Prewrite, CheckStatus, Rollback, OnePhasePrimary: the transaction's primary key.</summary>
    [Id(5)] public byte[]? PrimaryKey { get; init; }

    /// <summary>Prewrite: how long the locks live without their transaction finishing.</summary>
    [Id(6)] public long LockTtlMs { get; init; }

    /// <summary>Get: the key; Scan: the range start.</summary>
    [Id(7)] public byte[]? Key { get; init; }

    /// <summary>Scan: the exclusive range end (empty = unbounded).</summary>
    [Id(8)] public byte[]? End { get; init; }

    [Id(9)] public int Limit { get; init; }

    /// <summary>Prewrite, OnePhase, OnePhasePrimary: the writes.</summary>
    [Id(10)] public TxnMutation[]? Mutations { get; init; }

    /// <summary>Commit, Rollback: the locked keys. Validate, OnePhase, OnePhasePrimary: the keys read (and not written). GetMany: the keys to read.</summary>
    [Id(11)] public byte[][]? Keys { get; init; }

    /// <summary>Validate, OnePhase, OnePhasePrimary: the ranges scanned.</summary>
    [Id(12)] public TxnKeyRange[]? Ranges { get; init; }

    /// <summary>
    /// CheckStatus: the caller saw another lock of the transaction outlive its TTL, so a primary holding neither
    /// lock nor status may be recorded rolled back (its prewrite is lost or too late).
    /// </summary>
    [Id(13)] public bool RollbackIfAbsent { get; init; }

    /// <summary>
    /// CommitBatch: secondary commits (each <see cref="TxnOp.Commit"/> with no primary key, for this request's shard
    /// and epoch) of transactions whose primaries are committed.
    /// </summary>
    [Id(14)] public TxnRequest[]? Batch { get; init; }

    /// <summary>
    /// OnePhasePrimary: the commit timestamp must be above this (the highest read floor the other shards answered their
    /// prewrites with, or an oracle timestamp taken after those prewrites).
    /// </summary>
    [Id(15)] public long MinCommitTs { get; init; }
}
