namespace NoKv.Resp.Execution;

/// <summary>How a write treats the key's expiry (see <see cref="ExpiryWrite"/>).</summary>
internal enum ExpiryWriteMode
{
    /// <summary>The new value never expires.</summary>
    Clear = 0,

    /// <summary>The new value keeps the replaced value's expiry.</summary>
    Keep = 1,

    /// <summary>Expires this many milliseconds after the write.</summary>
    Ttl = 2,

    /// <summary>Expires at this Unix time in milliseconds.</summary>
    At = 3,
}
