namespace NoKv.Client;

/// <summary>
/// What a compare-and-swap expects to find: a value, or the key being absent, said explicitly. (With the
/// <c>ReadOnlyMemory&lt;byte&gt;?</c> overload a null <c>byte[]</c> silently converts to an empty value, not to "absent".)
/// No implicit conversions, so no call can mean the other by accident.
/// </summary>
public readonly struct KvExpected : IEquatable<KvExpected>
{
    private readonly ReadOnlyMemory<byte> _value;

    private KvExpected(ReadOnlyMemory<byte> value, bool present)
    {
        _value = value;
        IsPresent = present;
    }

    /// <summary>The key must be absent (or expired).</summary>
    public static KvExpected Absent => default;

    /// <summary>True when a value is expected; false for <see cref="Absent"/>.</summary>
    public bool IsPresent { get; }

    /// <summary>The expected value (empty for <see cref="Absent"/>).</summary>
    public ReadOnlyMemory<byte> Bytes => _value;

    /// <summary>The key must hold exactly <paramref name="value"/> (which may be empty).</summary>
    public static KvExpected Value(ReadOnlyMemory<byte> value) => new(value, true);

    /// <summary><paramref name="valueOrNull"/>, or <see cref="Absent"/> when it is null: the natural reading of a nullable array.</summary>
    public static KvExpected Of(byte[]? valueOrNull) => valueOrNull is null ? Absent : Value(valueOrNull);

    public bool Equals(KvExpected other) => IsPresent == other.IsPresent && _value.Span.SequenceEqual(other._value.Span);

    public override bool Equals(object? obj) => obj is KvExpected other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(IsPresent, _value.Length);

    public static bool operator ==(KvExpected left, KvExpected right) => left.Equals(right);

    public static bool operator !=(KvExpected left, KvExpected right) => !left.Equals(right);

    public override string ToString() => IsPresent ? $"value ({_value.Length} bytes)" : "absent";
}
