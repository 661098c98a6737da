using NoKv.Raft.Messages;

namespace NoKv.Raft.Storage;

/// <summary>
/// The read side of a node's durable Raft state: what has been persisted of the log, the hard state
/// and the latest snapshot. The library only reads through this interface; the host writes (it
/// persists each <see cref="Ready"/> and then reports it with <see cref="RawNode.Advance"/>).
/// </summary>
/// <remarks>
/// <para>Index space: entries (FirstIndex .. LastIndex) are available. FirstIndex - 1 is the index of
/// the latest snapshot (or of the compaction point), and <see cref="Term"/> must still answer for it,
/// so log matching works right after compaction. An empty log has FirstIndex = snapshot index + 1 and
/// LastIndex = snapshot index.</para>
/// <para>Mapping onto NoKv.Storage: under a group's key prefix P, keep
/// <c>P|hardstate</c> (Term, Vote, Commit), <c>P|confstate</c>, <c>P|truncated</c> (index and term of
/// the compaction point / snapshot) and <c>P|log|{index as 8-byte big-endian}</c> → (term, type, data).
/// Big-endian indexes make the engine's key order the log order, so <see cref="Entries"/> is one range
/// scan, truncation of a conflicting suffix is one DeleteRange, and compaction is a DeleteRange below
/// FirstIndex. One Ready becomes one atomic WriteBatch (entries + hard state), synced when
/// <see cref="Ready.MustSync"/>.</para>
/// <para>Thread safety: called only from the thread driving the owning <see cref="RawNode"/>.
/// Implementations may throw only the exceptions documented per method; anything else is treated as
/// fatal by the library (it propagates to the host).</para>
/// </remarks>
public interface IRaftStorage
{
    /// <summary>The persisted hard state and membership, read once when a node starts.</summary>
    RaftInitialState InitialState();

    /// <summary>
    /// Appends entries [lo, hi) to <paramref name="output"/>, stopping once their total
    /// <see cref="Entry.Size"/> would exceed <paramref name="maxSize"/>, but always at least one entry
    /// when lo &lt; hi.
    /// </summary>
    /// <exception cref="LogCompactedException">lo &lt;= the compaction point.</exception>
    /// <exception cref="LogUnavailableException">hi - 1 &gt; LastIndex.</exception>
    void Entries(ulong lo, ulong hi, ulong maxSize, List<Entry> output);

    /// <summary>Term of the entry at index i, for i in [FirstIndex - 1, LastIndex].</summary>
    /// <exception cref="LogCompactedException">i &lt; FirstIndex - 1.</exception>
    /// <exception cref="LogUnavailableException">i &gt; LastIndex.</exception>
    ulong Term(ulong i);

    /// <summary>Index of the first entry available through <see cref="Entries"/> (snapshot index + 1 when empty).</summary>
    ulong FirstIndex();

    ulong LastIndex();

    /// <summary>The latest snapshot; the leader sends it to followers that need compacted entries.</summary>
    /// <exception cref="SnapshotTemporarilyUnavailableException">A snapshot is being generated; ask again later.</exception>
    Snapshot Snapshot();
}
