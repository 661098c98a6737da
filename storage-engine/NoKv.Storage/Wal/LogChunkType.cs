namespace NoKv.Storage.Wal;

/// <summary>Type byte of a log chunk header (docs/format-wal.md). Written to disk: never renumber.</summary>
/// <remarks>
/// Types 1-4 frame data records (write batches in a WAL, version edits in a manifest); types 5-8 frame meta
/// records (<see cref="LogMetaKind"/>), which carry facts about the log itself and are not replayed as data.
/// A record's chunks are all of one family.
/// </remarks>
internal enum LogChunkType : byte
{
    /// <summary>Never written in a header; zero bytes only pad the end of a block or lie ahead of the writer.</summary>
    Zero = 0,

    /// <summary>The whole data record is in this chunk.</summary>
    Full = 1,

    /// <summary>First chunk of a data record that continues in the next block(s).</summary>
    First = 2,

    /// <summary>Neither first nor last chunk of a data record.</summary>
    Middle = 3,

    /// <summary>Last chunk of a data record.</summary>
    Last = 4,

    /// <summary>The whole meta record is in this chunk.</summary>
    MetaFull = 5,

    /// <summary>First chunk of a meta record.</summary>
    MetaFirst = 6,

    /// <summary>Neither first nor last chunk of a meta record.</summary>
    MetaMiddle = 7,

    /// <summary>Last chunk of a meta record.</summary>
    MetaLast = 8,
}
