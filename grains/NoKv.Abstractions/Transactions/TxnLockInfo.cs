namespace NoKv.Abstractions.Transactions;

/// <summary>
/// A transaction lock met by a request (code KeyLocked): enough for the caller to resolve it through the
/// lock's primary (CheckStatus there, then Commit or Rollback here). <see cref="AgeMs"/> is how long the lock
/// had existed by the clock of the leader that reported it, so the caller can tell an expired lock without
/// comparing clocks of different machines.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.TxnLockInfo")]
public sealed record TxnLockInfo(
    [property: Id(0)] byte[] Key,
    [property: Id(1)] byte[] PrimaryKey,
    [property: Id(2)] long StartTs,
    [property: Id(3)] long TtlMs,
    [property: Id(4)] long AgeMs)
{
    /// <summary>True when the lock had outlived its TTL when reported.</summary>
    public bool IsExpired => AgeMs >= TtlMs;
}
