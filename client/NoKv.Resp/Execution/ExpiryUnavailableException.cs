namespace NoKv.Resp.Execution;

/// <summary>
/// A command inside a cross-shard MULTI/EXEC read or set a key's time to live, which transactional reads and writes
/// do not carry (docs/resp.md, "MULTI/EXEC"). The executor answers the EXEC with <see cref="Exception.Message"/> as
/// an error and commits nothing.
/// </summary>
internal sealed class ExpiryUnavailableException : Exception
{
    public ExpiryUnavailableException(string message)
        : base(message)
    {
    }
}
