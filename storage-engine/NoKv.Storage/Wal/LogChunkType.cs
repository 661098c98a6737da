namespace NoKv.Storage.Wal;

/// <summary>Type byte of a log chunk header (docs/format-wal.md). Written to disk: never renumber.</summary>
internal enum LogChunkType : byte
{
    /// <summary>Never written in a header; zero bytes only pad the end of a block.</summary>
    Zero = 0,

    /// <summary>The whole record is in this chunk.</summary>
    Full = 1,

    /// <summary>First chunk of a record that continues in the next block(s).</summary>
    First = 2,

    /// <summary>Neither first nor last chunk of a record.</summary>
    Middle = 3,

    /// <summary>Last chunk of a record.</summary>
    Last = 4,
}
