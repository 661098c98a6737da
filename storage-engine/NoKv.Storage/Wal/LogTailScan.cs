namespace NoKv.Storage.Wal;

/// <summary>
/// What a <see cref="LogReader"/> found in a log after the point where its intact prefix stopped (filled by
/// scanning the rest of the file once the prefix ends anywhere but at the exact end of the file).
/// </summary>
/// <remarks>
/// The scan follows chunk framing only from points where a chunk boundary is known: past a damaged chunk whose
/// header is plausible (its length is used to skip it), and from the start of every later block (a chunk never
/// crosses a block, so each block that holds data starts with a chunk header). It never tries chunk headers at
/// arbitrary offsets, so bytes inside a record's payload (user data) are never mistaken for chunks.
/// </remarks>
internal sealed class LogTailScan
{
    /// <summary>Offset of the first chunk after the stop point whose checksum verifies; -1 if none.</summary>
    public long FirstIntactChunk { get; set; } = -1;

    /// <summary>Offset of the first intact chunk that starts a record (full or first, data or meta); -1 if none.</summary>
    public long FirstRecordStart { get; set; } = -1;

    /// <summary>Durability marks found intact after the stop point, with their offsets.</summary>
    public List<(DurableMark Mark, long Offset)> Marks { get; } = [];

    /// <summary>Offset just past the last non-zero byte of the file (the stop point if only zeros follow it).</summary>
    public long DataEnd { get; set; }
}
