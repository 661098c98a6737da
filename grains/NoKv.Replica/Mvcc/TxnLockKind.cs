namespace NoKv.Replica.Mvcc;

/// <summary>What a lock's transaction does to its key once committed. On disk: never renumber.</summary>
internal enum TxnLockKind : byte
{
    Put = 1,
    Delete = 2,
}
