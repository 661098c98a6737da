namespace NoKv.Abstractions.Transactions;

/// <summary>What a CheckStatus or Rollback found. On the wire: never renumber.</summary>
public enum TxnStatus : byte
{
    Unknown = 0,

    /// <summary>The primary is still locked by a live transaction (its lock has not expired).</summary>
    Locked = 1,

    /// <summary>Committed at <see cref="TxnResponse.CommitTs"/>.</summary>
    Committed = 2,

    RolledBack = 3,
}
