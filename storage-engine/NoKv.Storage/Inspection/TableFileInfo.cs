namespace NoKv.Storage.Inspection;

/// <summary>One live table as the manifest records it (docs/format-manifest.md), with user-key bounds.</summary>
/// <param name="Level">LSM level, 0 = newest.</param>
/// <param name="Number">File number (the table is NNNNNN.sst).</param>
/// <param name="SizeBytes">Size recorded in the manifest.</param>
/// <param name="SmallestKey">Smallest user key (a copy).</param>
/// <param name="LargestKey">Largest user key (a copy; a range tombstone's exclusive end when one extends the bounds).</param>
/// <param name="SmallestSequence">Smallest sequence number in the table.</param>
/// <param name="LargestSequence">Largest sequence number in the table.</param>
/// <param name="Entries">Point entries (every version of every key).</param>
/// <param name="RangeTombstones">Range tombstones the table carries.</param>
public sealed record TableFileInfo(
    int Level,
    ulong Number,
    long SizeBytes,
    byte[] SmallestKey,
    byte[] LargestKey,
    ulong SmallestSequence,
    ulong LargestSequence,
    long Entries,
    int RangeTombstones);
