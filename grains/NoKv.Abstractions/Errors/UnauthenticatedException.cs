namespace NoKv.Abstractions.Errors;

/// <summary>
/// A silo refused a call because it carried no credential or one the cluster does not accept, and did nothing
/// (docs/security.md). <see cref="NoKvException.Code"/> is <see cref="NoKvErrorCode.Unauthenticated"/>; the message
/// says which check failed (no credential, unknown key id, bad signature, outside the clock-skew window) but never
/// echoes a secret. Final: the client must be configured with a key the cluster holds, or its clock fixed.
/// </summary>
[GenerateSerializer, Alias("nokv.UnauthenticatedException")]
public sealed class UnauthenticatedException : NoKvException
{
    public UnauthenticatedException(string detail)
        : base(NoKvErrorCode.Unauthenticated, $"Unauthenticated: {detail}")
    {
    }
}
