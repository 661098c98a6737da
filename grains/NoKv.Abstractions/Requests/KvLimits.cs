using NoKv.Abstractions.Errors;

namespace NoKv.Abstractions.Requests;

/// <summary>
/// Size limits on keys and values. The client checks them before sending and the replica checks them again
/// before proposing, so a misconfigured or hostile client still cannot write what the cluster refuses.
/// Immutable; thread-safe.
/// </summary>
public sealed class KvLimits
{
    public const int DefaultMaxKeyBytes = 4 * 1024;
    public const int DefaultMaxValueBytes = 1024 * 1024;

    public KvLimits(int maxKeyBytes = DefaultMaxKeyBytes, int maxValueBytes = DefaultMaxValueBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeyBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValueBytes, 0);
        MaxKeyBytes = maxKeyBytes;
        MaxValueBytes = maxValueBytes;
    }

    public static KvLimits Default { get; } = new();

    public int MaxKeyBytes { get; }

    public int MaxValueBytes { get; }

    /// <summary>The error for <paramref name="key"/>, or null if it is acceptable.</summary>
    public NoKvException? CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            return new EmptyKeyException();
        }

        return key.Length > MaxKeyBytes ? new KeyTooLargeException(key.Length, MaxKeyBytes) : null;
    }

    public NoKvException? CheckValue(ReadOnlySpan<byte> value) =>
        value.Length > MaxValueBytes ? new ValueTooLargeException(value.Length, MaxValueBytes) : null;

    /// <summary>Checks a scan: start may be empty (from the first key), end empty means unbounded; start &lt; end otherwise.</summary>
    public NoKvException? CheckRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit)
    {
        if (start.Length > MaxKeyBytes)
        {
            return new KeyTooLargeException(start.Length, MaxKeyBytes);
        }

        if (end.Length > MaxKeyBytes)
        {
            return new KeyTooLargeException(end.Length, MaxKeyBytes);
        }

        if (!end.IsEmpty && start.SequenceCompareTo(end) >= 0)
        {
            return new InvalidRangeException("start must be less than end (an empty end means unbounded).");
        }

        return limit <= 0 ? new InvalidRangeException($"limit must be positive, was {limit}.") : null;
    }
}
