namespace NoKv.Storage.Wal;

/// <summary>First payload byte of a meta record (chunk types 5-8, docs/format-wal.md). Written to disk: never renumber.</summary>
internal enum LogMetaKind : byte
{
    /// <summary>
    /// <c>log_number:fixed64 offset:fixed64</c>: every byte of log <c>log_number</c> before <c>offset</c> was made
    /// durable by an fdatasync that had returned before this record was appended (see <see cref="DurableMark"/>).
    /// </summary>
    DurableThrough = 1,
}
