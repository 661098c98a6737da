using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Transactions;

/// <summary>A shard's answer to a <see cref="TxnRequest"/>.</summary>
[GenerateSerializer, Immutable, Alias("nokv.TxnResponse")]
public sealed class TxnResponse : IReplicaResponse
{
    [Id(0)] public required NoKvErrorCode Code { get; init; }

    [Id(1)] public StoreId? LeaderHint { get; init; }

    [Id(2)] public long CurrentEpoch { get; init; }

    [Id(3)] public string? Detail { get; init; }

    /// <summary>Get: the value at the snapshot, null when absent.</summary>
    [Id(4)] public byte[]? Value { get; init; }

    [Id(5)] public KvEntry[] Entries { get; init; } = [];

    [Id(6)] public bool HasMore { get; init; }

    [Id(7)] public byte[] ShardEnd { get; init; } = [];

    /// <summary>With KeyLocked: the lock met.</summary>
    [Id(8)] public TxnLockInfo? Lock { get; init; }

    /// <summary>CheckStatus, Rollback, Commit: what became of the transaction.</summary>
    [Id(9)] public TxnStatus Status { get; init; }

    /// <summary>CheckStatus (Committed), OnePhase, OnePhasePrimary: the commit timestamp.</summary>
    [Id(10)] public long CommitTs { get; init; }

    /// <summary>With WriteConflict: the key whose newer version or lock conflicted.</summary>
    [Id(11)] public byte[]? ConflictKey { get; init; }

    /// <summary>GetMany (Ok): the value of each requested key at the snapshot, in request order, null when absent.</summary>
    [Id(12)] public byte[]?[]? Values { get; init; }

    /// <summary>With WrongShard: the replica's current descriptor and the shards split off its end (see <see cref="IReplicaResponse.CurrentShards"/>).</summary>
    [Id(13)] public ShardDescriptor[]? CurrentShards { get; init; }

    /// <summary>
    /// Prewrite (Ok): the leader's read floor after the locks applied. Every snapshot read this shard served without
    /// meeting them was at or below it, so a commit timestamp above it keeps those snapshots unchanged. 0 when the
    /// leader could not tell (its floor not primed, or an older build): the client takes an oracle timestamp instead.
    /// </summary>
    [Id(14)] public long MinCommitTs { get; init; }
}
