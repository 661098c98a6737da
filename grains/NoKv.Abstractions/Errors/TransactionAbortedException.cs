namespace NoKv.Abstractions.Errors;

/// <summary>
/// The transaction was rolled back before it could commit: by its own RollbackAsync, or by another client that
/// found its locks past their TTL. Nothing it wrote is visible; running it again is safe.
/// </summary>
[GenerateSerializer, Alias("nokv.TransactionAbortedException")]
public sealed class TransactionAbortedException : NoKvException
{
    public TransactionAbortedException(string message)
        : base(NoKvErrorCode.TxnAborted, message)
    {
    }
}
