namespace NoKv.Storage.Transfer;

/// <summary>Record types of the range export stream (docs/format-export.md). Written to streams: never renumber.</summary>
internal enum RangeStreamRecordType : byte
{
    /// <summary>First record: the exported range.</summary>
    Header = 1,

    /// <summary>A run of key/value entries in increasing key order.</summary>
    Entries = 2,

    /// <summary>Last record: the number of entries, so a truncated stream is detected.</summary>
    End = 3,
}
