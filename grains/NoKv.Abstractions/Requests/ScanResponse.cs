using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

[GenerateSerializer, Immutable, Alias("nokv.ScanResponse")]
public sealed class ScanResponse : IReplicaResponse, ILockedResponse
{
    [Id(0)] public required NoKvErrorCode Code { get; init; }

    /// <summary>Entries in ascending key order, all inside the request range and the shard's range.</summary>
    [Id(1)] public KvEntry[] Entries { get; init; } = [];

    /// <summary>True when the shard holds more keys in range after the last entry (the limit cut the page).</summary>
    [Id(2)] public bool HasMore { get; init; }

    [Id(3)] public StoreId? LeaderHint { get; init; }

    [Id(4)] public long CurrentEpoch { get; init; }

    [Id(5)] public string? Detail { get; init; }

    /// <summary>
    /// The exclusive end of the answering shard's range (empty = unbounded). When <see cref="HasMore"/> is
    /// false the client continues from here, so a scan follows the shard that actually answered.
    /// </summary>
    [Id(6)] public byte[] ShardEnd { get; init; } = [];

    /// <summary>With KeyLocked: the transaction lock on the key (resolve it through its primary, then retry).</summary>
    [Id(7)] public Transactions.TxnLockInfo? Lock { get; init; }

    /// <summary>With WrongShard: the replica's current descriptor and the shards split off its end (see <see cref="IReplicaResponse.CurrentShards"/>).</summary>
    [Id(8)] public ShardDescriptor[]? CurrentShards { get; init; }
}
