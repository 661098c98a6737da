using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>
/// Everything a node needs its host to do, produced by <see cref="RawNode.GetReady"/>. The host must,
/// in this order:
/// <list type="number">
/// <item>persist <see cref="Snapshot"/> (if any), then <see cref="Entries"/> and <see cref="HardState"/>
/// (if any) atomically, durably when <see cref="MustSync"/>;</item>
/// <item>only then send <see cref="Messages"/> (they may acknowledge what was just persisted);</item>
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

    /// <summary>Messages to send after persisting. Delivery may be unreliable; Raft retries.</summary>
    public ReadOnlyMemory<Message> Messages { get; internal set; }

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
        ReadStates = default;
        MustSync = false;
    }
}
