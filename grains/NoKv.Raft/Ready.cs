using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>
/// Everything a node needs its host to do, produced by <see cref="RawNode.GetReady"/>. The host must,
/// in this order:
/// <list type="number">
/// <item>persist <see cref="Snapshot"/> (if any), then <see cref="Entries"/> and <see cref="HardState"/>
/// (if any) atomically, durably when <see cref="MustSync"/>;</item>
/// <item>only then send <see cref="Messages"/> (they may acknowledge what was just persisted), except the
/// first <see cref="MessagesBeforePersist"/> of them, which may be sent before or while step 1 runs;</item>
/// <item>install <see cref="Snapshot"/> into the state machine and apply <see cref="CommittedEntries"/>
/// in order (ConfChange entries: call <see cref="RawNode.ApplyConfChange"/>), serve
/// <see cref="ReadStates"/> once applied reaches their index;</item>
/// <item>call <see cref="RawNode.Advance"/> with this object.</item>
/// </list>
/// </summary>
/// <remarks>
/// Lifetime: the object and the memory of its collections belong to the RawNode and are reused;
/// they are valid until <see cref="RawNode.Advance"/>. The <see cref="Message"/> objects, entry
/// payloads and snapshots they reference are immutable and may be kept longer.
/// </remarks>
public sealed class Ready
{
    /// <summary>Leader or role changed since the previous Ready; null otherwise.</summary>
    public SoftState? SoftState { get; internal set; }

    /// <summary>Term, vote or commit changed and must be persisted; null otherwise.</summary>
    public HardState? HardState { get; internal set; }

    /// <summary>Entries to append to stable storage (they replace any persisted suffix from their first index).</summary>
    public ReadOnlyMemory<Entry> Entries { get; internal set; }

    /// <summary>A snapshot received from the leader, to persist and install; null otherwise.</summary>
    public Snapshot? Snapshot { get; internal set; }

    /// <summary>Committed entries to apply, in order (already persisted or in <see cref="Entries"/> of this Ready).</summary>
    public ReadOnlyMemory<Entry> CommittedEntries { get; internal set; }

    /// <summary>Messages to send after persisting (but see <see cref="MessagesBeforePersist"/>). Delivery may be unreliable; Raft retries.</summary>
    public ReadOnlyMemory<Message> Messages { get; internal set; }

    /// <summary>
    /// How many messages at the start of <see cref="Messages"/> the host may send before (or while) it persists
    /// this Ready, instead of after: a leader's replication traffic (Append, Heartbeat, Snapshot) when this
    /// Ready changes neither term nor vote. Sending them early lets the followers' disk writes overlap the
    /// leader's own, so a commit costs one disk write plus a round trip instead of two disk writes plus a round
    /// trip (Raft thesis section 10.2.1). A host that ignores this and sends everything after persisting is
    /// equally correct. The order of the other messages is kept; these come first.
    /// </summary>
    /// <remarks>
    /// <para>Why it is safe. (1) These messages acknowledge nothing: an Append only offers entries, and the
    /// leader's term and vote they carry are already durable (this Ready does not change them, else the count
    /// is 0). (2) The leader counts its own new entries toward the commit quorum at append time, but the commit
    /// index can only move when a follower's acknowledgement is stepped, and nothing is stepped before
    /// <see cref="RawNode.Advance"/>, i.e. before the host finished step 1; so no entry counts the leader's copy
    /// before it is durable. A single-voter leader commits at append with no message at all, which is why
    /// <see cref="CommittedEntries"/> may include this Ready's <see cref="Entries"/>: the host still applies
    /// only after persisting. (3) If the leader crashes before its write completes, followers may hold entries
    /// the leader lost; that is the ordinary state of a follower ahead of a crashed leader's disk: the leader
    /// cannot lead that term again, and the entries commit only if a later leader has them.</para>
    /// <para>Followers' responses (AppendResponse, votes) are never in this prefix: they acknowledge state that
    /// must be durable first.</para>
    /// </remarks>
    public int MessagesBeforePersist { get; internal set; }

    /// <summary>Reads confirmed safe: serve each once applied &gt;= its index.</summary>
    public ReadOnlyMemory<ReadState> ReadStates { get; internal set; }

    /// <summary>True if the hard state's term/vote or the entries must be fsynced before sending; false if a
    /// buffered write suffices (only the commit index changed).</summary>
    public bool MustSync { get; internal set; }

    internal bool InUse { get; set; }

    internal void Clear()
    {
        SoftState = null;
        HardState = null;
        Entries = default;
        Snapshot = null;
        CommittedEntries = default;
        Messages = default;
        MessagesBeforePersist = 0;
        ReadStates = default;
        MustSync = false;
    }
}
