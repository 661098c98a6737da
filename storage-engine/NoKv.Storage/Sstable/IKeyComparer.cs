namespace NoKv.Storage.Sstable;

/// <summary>
/// Total order over the keys stored in a table (and in the memtable and iterators above it), plus the
/// few key manipulations the table layer needs. Implementations must be stateless and thread-safe.
/// </summary>
/// <remarks>
/// The order is part of the on-disk format of every table built with it: a table must be read with the
/// comparer it was written with. <see cref="Name"/> is stored in the table's properties block and checked
/// at open.
/// </remarks>
public interface IKeyComparer
{
    /// <summary>Stable identifier stored in tables; change it whenever the order changes.</summary>
    string Name { get; }

    /// <summary>Negative, zero or positive as <paramref name="a"/> sorts before, equal to or after <paramref name="b"/>.</summary>
    int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b);

    /// <summary>
    /// The part of <paramref name="key"/> that identifies a user key: what the bloom filter is built on and
    /// what a point lookup must match. For plain keys the whole key; for internal keys the key without its
    /// 8-byte trailer.
    /// </summary>
    ReadOnlySpan<byte> UserKey(ReadOnlySpan<byte> key);

    /// <summary>
    /// A short key k with <paramref name="start"/> &lt;= k &lt; <paramref name="limit"/>, used as an index
    /// separator between two data blocks. REQUIRES: start &lt; limit. Returning start itself is correct.
    /// </summary>
    byte[] FindShortestSeparator(ReadOnlySpan<byte> start, ReadOnlySpan<byte> limit);

    /// <summary>A short key k &gt;= <paramref name="key"/>, used as the index entry of the last data block.</summary>
    byte[] FindShortSuccessor(ReadOnlySpan<byte> key);
}
