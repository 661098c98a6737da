namespace NoKv.Abstractions.Sharding;

/// <summary>
/// A half-open key range [Start, End) under bytewise (unsigned lexicographic) order. An empty Start means
/// "from the smallest key"; an empty End means "to past the largest key". Immutable: the arrays are never
/// written after construction, so instances can be shared freely across threads and grain calls.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.KeyRange")]
public sealed class KeyRange
{
    public KeyRange(byte[] start, byte[] end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        if (end.Length != 0 && start.AsSpan().SequenceCompareTo(end) >= 0)
        {
            throw new ArgumentException("A key range needs start < end (an empty end means unbounded).", nameof(end));
        }

        Start = start;
        End = end;
    }

    /// <summary>The whole key space.</summary>
    public static KeyRange All { get; } = new([], []);

    /// <summary>Inclusive lower bound; empty = unbounded below.</summary>
    [Id(0)]
    public byte[] Start { get; }

    /// <summary>Exclusive upper bound; empty = unbounded above.</summary>
    [Id(1)]
    public byte[] End { get; }

    public bool Contains(ReadOnlySpan<byte> key) =>
        key.SequenceCompareTo(Start) >= 0 && (End.Length == 0 || key.SequenceCompareTo(End) < 0);

    /// <summary>True when [start, end) (end empty = unbounded) overlaps this range.</summary>
    public bool Overlaps(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) =>
        (End.Length == 0 || start.SequenceCompareTo(End) < 0) && (end.Length == 0 || end.SequenceCompareTo(Start) > 0);

    public override string ToString() => $"[{KeyFormatter.Format(Start)}, {(End.Length == 0 ? "+inf" : KeyFormatter.Format(End))})";
}
