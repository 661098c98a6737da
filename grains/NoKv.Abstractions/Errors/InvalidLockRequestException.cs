namespace NoKv.Abstractions.Errors;

/// <summary>A lock request the service refuses as malformed (a lease out of bounds, a missing owner); nothing changed.</summary>
[GenerateSerializer, Alias("nokv.InvalidLockRequestException")]
public sealed class InvalidLockRequestException : NoKvException
{
    public InvalidLockRequestException(string detail)
        : base(NoKvErrorCode.InvalidLockRequest, $"Invalid lock request: {detail}")
    {
    }
}
