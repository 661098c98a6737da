namespace NoKv.Abstractions.Errors;

/// <summary>A value longer than the configured limit. Nothing was sent or changed.</summary>
[GenerateSerializer, Alias("nokv.ValueTooLargeException")]
public sealed class ValueTooLargeException : NoKvException
{
    public ValueTooLargeException(int length, int limit)
        : base(NoKvErrorCode.ValueTooLarge, $"Value is {length} bytes; the limit is {limit} bytes.")
    {
        Length = length;
        Limit = limit;
    }

    [Id(0)]
    public int Length { get; }

    [Id(1)]
    public int Limit { get; }
}
