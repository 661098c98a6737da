namespace NoKv.Raft.Messages;

/// <summary>One Raft log entry.</summary>
/// <remarks>
/// Immutable. <see cref="Data"/> is owned by whoever proposed it and is never mutated by the
/// library; the host must not mutate a payload after proposing it either, because the same memory
/// is referenced by the unstable log, outgoing messages and the committed-entries list until the
/// entry is persisted, sent and applied.
/// An entry with an empty <see cref="Data"/> and type <see cref="EntryType.Normal"/> is the no-op a
/// leader appends when it takes office; the state machine skips it.
/// </remarks>
public readonly struct Entry : IEquatable<Entry>
{
    /// <summary>Fixed per-entry overhead counted against size limits besides the payload.</summary>
    internal const int Overhead = 24;

    public Entry(ulong term, ulong index, EntryType type, ReadOnlyMemory<byte> data)
    {
        Term = term;
        Index = index;
        Type = type;
        Data = data;
    }

    public Entry(ulong term, ulong index, ReadOnlyMemory<byte> data)
        : this(term, index, EntryType.Normal, data)
    {
    }

    /// <summary>Term of the leader that created the entry.</summary>
    public ulong Term { get; }

    /// <summary>Position in the log, starting at 1.</summary>
    public ulong Index { get; }

    public EntryType Type { get; }

    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Bytes counted for MaxSizePerMsg and similar limits: payload plus fixed overhead.</summary>
    public ulong Size => (ulong)(Data.Length + Overhead);

    /// <summary>A copy of this entry with a different term and index (used when a leader appends a proposal).</summary>
    public Entry WithPosition(ulong term, ulong index) => new(term, index, Type, Data);

    public bool Equals(Entry other) =>
        Term == other.Term && Index == other.Index && Type == other.Type && Data.Span.SequenceEqual(other.Data.Span);

    public override bool Equals(object? obj) => obj is Entry e && Equals(e);

    public override int GetHashCode() => HashCode.Combine(Term, Index, Type, Data.Length);

    public static bool operator ==(Entry left, Entry right) => left.Equals(right);

    public static bool operator !=(Entry left, Entry right) => !left.Equals(right);

    public override string ToString() => $"{Term}/{Index} {Type} {Data.Length}B";
}
