namespace NoKv.Replica.Mvcc;

/// <summary>A transaction's recorded outcome. On disk in status rows: never renumber.</summary>
internal enum TxnState : byte
{
    Committed = 1,
    RolledBack = 2,
}
