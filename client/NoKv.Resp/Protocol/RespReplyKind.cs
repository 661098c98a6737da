namespace NoKv.Resp.Protocol;

/// <summary>Kinds of reply a command produces; the writer maps each to RESP2 or RESP3 framing.</summary>
internal enum RespReplyKind : byte
{
    SimpleString,
    Error,
    Integer,
    Bulk,

    /// <summary>A missing value: $-1 in RESP2, _ in RESP3.</summary>
    Null,

    /// <summary>A missing array (EXEC aborted by WATCH): *-1 in RESP2, _ in RESP3.</summary>
    NullArray,
    Array,

    /// <summary>Key/value pairs: % in RESP3, a flat array in RESP2.</summary>
    Map,
}
