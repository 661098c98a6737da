namespace NoKv.Abstractions.Errors;

/// <summary>A key longer than the configured limit. Nothing was sent or changed.</summary>
[GenerateSerializer, Alias("nokv.KeyTooLargeException")]
public sealed class KeyTooLargeException : NoKvException
{
    public KeyTooLargeException(int length, int limit)
        : base(NoKvErrorCode.KeyTooLarge, $"Key is {length} bytes; the limit is {limit} bytes.")
    {
        Length = length;
        Limit = limit;
    }

    [Id(0)]
    public int Length { get; }

    [Id(1)]
    public int Limit { get; }
}
