namespace NoKv.Resp.Commands;

/// <summary>
/// How a command over several keys runs outside MULTI: once per key (or key/value pair), the per-key replies
/// combined. Each key's part is atomic on its own; see docs/resp.md for why the whole is not (yet).
/// </summary>
internal enum MultiKeyReply
{
    /// <summary>Not split: the command names one key.</summary>
    None,

    /// <summary>The per-key replies as an array (MGET).</summary>
    Array,

    /// <summary>The sum of the per-key integer replies (DEL, EXISTS).</summary>
    Sum,

    /// <summary>+OK once every part is done (MSET).</summary>
    Ok,
}
