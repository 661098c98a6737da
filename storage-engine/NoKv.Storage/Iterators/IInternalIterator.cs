namespace NoKv.Storage.Iterators;

/// <summary>
/// A positioned cursor over sorted key/value entries, shared by memtables, tables, merging and db iterators.
/// Ordering is defined by the <see cref="Sstable.IKeyComparer"/> of the underlying source.
/// </summary>
/// <remarks>
/// Not thread-safe: one thread at a time. <see cref="Key"/> and <see cref="Value"/> may only be read while
/// <see cref="Valid"/> is true, and the spans they return stay valid only until the next positioning call
/// (Seek*, Next, Prev) or Dispose; copy them to keep them.
/// A source whose bytes fail verification throws <see cref="CorruptionException"/> from the positioning
/// call; the iterator is then invalid.
/// Disposing releases what the iterator pins (table references, cache entries, pooled buffers).
/// </remarks>
public interface IInternalIterator : IDisposable
{
    /// <summary>True when positioned at an entry.</summary>
    bool Valid { get; }

    /// <summary>Positions at the first entry; invalid if the source is empty.</summary>
    void SeekToFirst();

    /// <summary>Positions at the last entry; invalid if the source is empty.</summary>
    void SeekToLast();

    /// <summary>Positions at the first entry whose key is &gt;= <paramref name="target"/>.</summary>
    void Seek(ReadOnlySpan<byte> target);

    /// <summary>REQUIRES: <see cref="Valid"/>. Moves to the next entry; invalid after the last.</summary>
    void Next();

    /// <summary>REQUIRES: <see cref="Valid"/>. Moves to the previous entry; invalid before the first.</summary>
    void Prev();

    /// <summary>REQUIRES: <see cref="Valid"/>. Valid until the next positioning call.</summary>
    ReadOnlySpan<byte> Key { get; }

    /// <summary>REQUIRES: <see cref="Valid"/>. Valid until the next positioning call.</summary>
    ReadOnlySpan<byte> Value { get; }
}
