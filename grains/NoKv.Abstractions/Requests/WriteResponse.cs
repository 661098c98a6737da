using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>Outcome of a write. Routing failures come back as codes, not exceptions, because they are expected during elections.</summary>
[GenerateSerializer, Immutable, Alias("nokv.WriteResponse")]
public sealed class WriteResponse : IReplicaResponse, ILockedResponse
{
    [Id(0)] public required NoKvErrorCode Code { get; init; }

    /// <summary>For CompareAndSwap: whether the swap happened. True for a successful Put or Delete.</summary>
    [Id(1)] public bool Succeeded { get; init; }

    /// <summary>With NotLeader: the store believed to lead, if known.</summary>
    [Id(2)] public StoreId? LeaderHint { get; init; }

    /// <summary>The replica's shard epoch (meaningful with WrongShard).</summary>
    [Id(3)] public long CurrentEpoch { get; init; }

    /// <summary>Raft index at which the write was applied (0 when not applied).</summary>
    [Id(4)] public long Index { get; init; }

    [Id(5)] public string? Detail { get; init; }

    /// <summary>With KeyLocked: the transaction lock on the key (resolve it through its primary, then retry).</summary>
    [Id(6)] public Transactions.TxnLockInfo? Lock { get; init; }

    /// <summary>With WrongShard: the replica's current descriptor and the shards split off its end (see <see cref="IReplicaResponse.CurrentShards"/>).</summary>
    [Id(7)] public ShardDescriptor[]? CurrentShards { get; init; }
}
