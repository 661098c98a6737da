namespace NoKv.Storage;

/// <summary>
/// Kind byte of an internal key's trailer and of a WAL batch record. Written to disk: never renumber.
/// </summary>
internal enum ValueKind : byte
{
    Deletion = 0,
    Value = 1,
    RangeDeletion = 2,

    /// <summary>
    /// A value kept in a value file: the entry's stored value is a <see cref="ValueLog.ValuePointer"/>. Only in
    /// tables (written by flush and compaction), never in a WAL batch or a memtable; docs/format-value-file.md.
    /// </summary>
    ValuePointer = 3,
}
