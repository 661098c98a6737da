namespace NoKv.Abstractions.Errors;

/// <summary>An empty key. NoKV reserves the empty key as the unbounded end of ranges. Nothing was changed.</summary>
[GenerateSerializer, Alias("nokv.EmptyKeyException")]
public sealed class EmptyKeyException : NoKvException
{
    public EmptyKeyException()
        : base(NoKvErrorCode.EmptyKey, "Keys must not be empty.")
    {
    }
}
