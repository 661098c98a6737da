using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

[GenerateSerializer, Immutable, Alias("nokv.ReadResponse")]
public sealed class ReadResponse : IReplicaResponse, ILockedResponse
{
    [Id(0)] public required NoKvErrorCode Code { get; init; }

    /// <summary>The value, or null when the key does not exist.</summary>
    [Id(1)] public byte[]? Value { get; init; }

    [Id(2)] public StoreId? LeaderHint { get; init; }

    [Id(3)] public long CurrentEpoch { get; init; }

    [Id(4)] public string? Detail { get; init; }

    /// <summary>With KeyLocked: the transaction lock on the key (resolve it through its primary, then retry).</summary>
    [Id(5)] public Transactions.TxnLockInfo? Lock { get; init; }

    /// <summary>When the value expires, in Unix ms by the serving leader's clock; 0 when it never does (or is absent).</summary>
    [Id(6)] public long ExpiresAtMs { get; init; }

    /// <summary>The serving replica's wall clock when it read, Unix ms: the remaining time to live is ExpiresAtMs minus this.</summary>
    [Id(7)] public long ServedAtMs { get; init; }

    /// <summary>With WrongShard: the replica's current descriptor and the shards split off its end (see <see cref="IReplicaResponse.CurrentShards"/>).</summary>
    [Id(8)] public ShardDescriptor[]? CurrentShards { get; init; }
}
