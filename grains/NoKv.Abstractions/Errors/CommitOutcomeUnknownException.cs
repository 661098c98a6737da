namespace NoKv.Abstractions.Errors;

/// <summary>
/// The commit of the transaction's primary key was sent but no answer arrived before the deadline: the transaction
/// either committed (entirely) or will be rolled back (entirely), but this client cannot tell which. Read the data
/// to find out; do not blindly run the transaction again unless it is idempotent.
/// </summary>
[GenerateSerializer, Alias("nokv.CommitOutcomeUnknownException")]
public sealed class CommitOutcomeUnknownException : NoKvException
{
    public CommitOutcomeUnknownException(string message, Exception? inner)
        : base(NoKvErrorCode.Timeout, message, inner)
    {
    }
}
