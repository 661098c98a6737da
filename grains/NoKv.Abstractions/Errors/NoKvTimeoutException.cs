namespace NoKv.Abstractions.Errors;

/// <summary>
/// The caller's deadline passed. <see cref="LastError"/> is the last retryable failure seen (the reason
/// the operation could not complete); for a write the outcome is unknown, and retrying it through the same
/// client session keeps it exactly-once.
/// </summary>
[GenerateSerializer, Alias("nokv.NoKvTimeoutException")]
public sealed class NoKvTimeoutException : NoKvException
{
    public NoKvTimeoutException(string operation, TimeSpan elapsed, int attempts, NoKvErrorCode lastError, string? lastDetail)
        : base(NoKvErrorCode.Timeout, $"{operation} did not complete within {elapsed.TotalMilliseconds:F0} ms after {attempts} attempt(s); last failure: {lastError}{(lastDetail is null ? "" : $" ({lastDetail})")}.")
    {
        Operation = operation;
        Attempts = attempts;
        LastError = lastError;
    }

    [Id(0)]
    public string Operation { get; }

    [Id(1)]
    public int Attempts { get; }

    [Id(2)]
    public NoKvErrorCode LastError { get; }
}
