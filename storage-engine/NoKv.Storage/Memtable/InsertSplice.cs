namespace NoKv.Storage.Memtable;

/// <summary>
/// Where the last insert of one key sequence went in a <see cref="SkipList"/>: per level, the node before the
/// insert position and the node after it, as they were right after that insert. The next insert of the same
/// sequence (a log's next index, the same state row written again) usually lands next to it, so the search can
/// start from the splice instead of from the head (the idea of RocksDB's InlineSkipList splice).
/// </summary>
/// <remarks>
/// Invariant (why a stale splice is still safe to start from): for every level i, key(Prev[i]) &lt; key(Next[i])
/// in list order (head before everything, 0 = end after everything), and the intervals nest: Prev[i + 1] is at
/// or before Prev[i] and Next[i + 1] at or after Next[i]. Both hold for the exact splice recorded after an insert
/// and stay true as other inserts add nodes (nodes never move or leave), so if level L brackets a key, every
/// level above does too; only the nodes between Prev[i] and Next[i] may have grown, which the search walks
/// over. Levels at or above the list's height when recorded hold (head, end). Writer-only state: readers never
/// see it. Not thread-safe.
/// </remarks>
internal sealed class InsertSplice
{
    /// <summary>Hash of the key head this slot tracks (see <see cref="SkipList"/>'s SequenceTag).</summary>
    public ulong Tag;

    /// <summary>
    /// How well the splice has been predicting: up on each insert it placed, down on each miss, so a sequence
    /// of random keys stops paying for failed attempts; also how firmly the slot's owner holds it against other
    /// sequences that hash to the same slot.
    /// </summary>
    public int Score;

    public readonly long[] Prev = new long[SkipList.MaxHeight];

    public readonly long[] Next = new long[SkipList.MaxHeight];
}
