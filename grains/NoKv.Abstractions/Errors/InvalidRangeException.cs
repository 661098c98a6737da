namespace NoKv.Abstractions.Errors;

/// <summary>A malformed scan: start >= end, or a non-positive limit. Nothing was read.</summary>
[GenerateSerializer, Alias("nokv.InvalidRangeException")]
public sealed class InvalidRangeException : NoKvException
{
    public InvalidRangeException(string detail)
        : base(NoKvErrorCode.InvalidRange, $"Invalid range: {detail}")
    {
    }
}
