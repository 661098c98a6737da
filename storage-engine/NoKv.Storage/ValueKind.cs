namespace NoKv.Storage;

/// <summary>
/// Kind byte of an internal key's trailer and of a WAL batch record. Written to disk: never renumber.
/// </summary>
internal enum ValueKind : byte
{
    Deletion = 0,
    Value = 1,
    RangeDeletion = 2,
}
