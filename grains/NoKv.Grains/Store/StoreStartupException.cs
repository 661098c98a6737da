namespace NoKv.Grains.Store;

/// <summary>
/// The store could not be opened for an operator-fixable reason (unwritable directory, store id mismatch,
/// engine locked by another process). The host prints the message alone, without a stack trace.
/// </summary>
public sealed class StoreStartupException : Exception
{
    public StoreStartupException(string message)
        : base(message)
    {
    }

    public StoreStartupException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
