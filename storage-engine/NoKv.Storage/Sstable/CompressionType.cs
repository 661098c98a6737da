namespace NoKv.Storage.Sstable;

/// <summary>
/// The byte after every block's contents in a table file. Written to disk: never renumber, never reuse.
/// A reader rejects a value it does not know as corruption, and a table that may hold compressed blocks
/// carries footer format version 2, so a build that predates compression refuses the whole table loudly
/// instead of misreading it (docs/format-sstable.md).
/// </summary>
public enum CompressionType : byte
{
    None = 0,

    /// <summary>LZ4 block format: fast to decode, modest ratio. A good default for upper levels.</summary>
    Lz4 = 1,

    /// <summary>Zstandard frame: a better ratio for more CPU. Suits the bottom levels, which hold most data.</summary>
    Zstd = 2,
}
