namespace NoKv.Abstractions.Errors;

/// <summary>
/// Base of every error NoKV reports to callers. <see cref="Code"/> says what failed; subclasses add the
/// details a caller can act on. Serializable so grains can throw them across silos.
/// </summary>
[GenerateSerializer, Alias("nokv.NoKvException")]
public class NoKvException : Exception
{
    public NoKvException(NoKvErrorCode code, string message)
        : base(message) => Code = code;

    public NoKvException(NoKvErrorCode code, string message, Exception? inner)
        : base(message, inner) => Code = code;

    [Id(0)]
    public NoKvErrorCode Code { get; }

    /// <summary>True when the operation may be retried (see <see cref="NoKvErrorCodes.IsRetryable"/>).</summary>
    public bool IsRetryable => NoKvErrorCodes.IsRetryable(Code);
}
