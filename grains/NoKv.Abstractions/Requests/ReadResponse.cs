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
}
