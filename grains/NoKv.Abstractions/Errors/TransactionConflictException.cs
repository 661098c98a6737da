namespace NoKv.Abstractions.Errors;

/// <summary>
/// The transaction conflicted with another (a version committed after its start, another transaction's lock, or a
/// read that changed before its commit) and was rolled back; nothing it wrote is visible. Running it again (with a
/// new snapshot) is safe, which is what <c>TransactAsync</c> does up to its attempt limit.
/// </summary>
[GenerateSerializer, Alias("nokv.TransactionConflictException")]
public sealed class TransactionConflictException : NoKvException
{
    public TransactionConflictException(string message, byte[]? key = null)
        : base(NoKvErrorCode.WriteConflict, message) => Key = key;

    /// <summary>The key the conflict was found on, when known.</summary>
    [Id(0)]
    public byte[]? Key { get; }
}
