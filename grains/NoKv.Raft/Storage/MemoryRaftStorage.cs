using NoKv.Raft.Messages;

namespace NoKv.Raft.Storage;

/// <summary>
/// An in-memory <see cref="IRaftStorage"/> with the write operations a host performs: appending
/// persisted entries, saving the hard state, installing and creating snapshots, compacting.
/// Used by tests, the simulation and benchmarks; it is "durable" in the sense that it survives a
/// simulated crash of the <see cref="RawNode"/> that reads it.
/// </summary>
/// <remarks>
/// Thread safety: every method takes an internal lock, so a host may write from one thread while
/// the node reads from another; a single-threaded host pays only an uncontended lock.
/// Invariant: <c>entries[0]</c> is a dummy whose Index/Term are the snapshot (compaction) point;
/// <c>entries[k].Index == entries[0].Index + k</c>.
/// <para>Membership is kept twice, on purpose. A snapshot's ConfState is the membership as of the
/// snapshot's index and is never changed afterwards (a leader sends it, a follower installs it with
/// the data of that index). Separately, the storage records the membership for restarts: the
/// membership as of the index the host's state machine resumes from (<see cref="RaftConfig.Applied"/>),
/// which is what <see cref="InitialState"/> returns. That record follows the newest of: the
/// constructor's membership, <see cref="SetConfState(ConfState, ulong)"/>, <see cref="CreateSnapshot"/>
/// and <see cref="ApplySnapshot"/>, by the index each is "as of". So a host whose state machine is
/// rebuilt from the snapshot on restart needs no call at all, and a host whose state machine is durable
/// records each ConfState returned by <see cref="RawNode.ApplyConfChange"/> with its entry's index.</para>
/// </remarks>
public sealed class MemoryRaftStorage : IRaftStorage
{
    private readonly Lock sync = new();
    private readonly List<Entry> entries = new();
    private HardState hardState;
    private Snapshot snapshot;

    // The membership for restarts and the applied index it is as of (see the class remarks).
    private ConfState restartConfState;
    private ulong restartConfIndex;

    /// <summary>Creates an empty storage with no members (a node that will join an existing group).</summary>
    public MemoryRaftStorage()
    {
        snapshot = Messages.Snapshot.Empty;
        restartConfState = snapshot.Metadata.ConfState;
        entries.Add(new Entry(0, 0, ReadOnlyMemory<byte>.Empty));
    }

    /// <summary>
    /// Creates the storage of a founding member with <paramref name="initialMembership"/> recorded as the
    /// membership at index 0 (no log entries). Simple, but a node that joins later cannot learn the
    /// founders by replaying the log: it needs a snapshot (compact before adding it), or use
    /// <see cref="CreateBootstrapped"/> for every founder instead.
    /// </summary>
    public MemoryRaftStorage(ConfState initialMembership)
    {
        ArgumentNullException.ThrowIfNull(initialMembership);
        snapshot = new Snapshot(new SnapshotMetadata(0, 0, initialMembership), ReadOnlyMemory<byte>.Empty);
        restartConfState = initialMembership;
        entries.Add(new Entry(0, 0, ReadOnlyMemory<byte>.Empty));
    }

    /// <summary>
    /// Creates the storage of a founding member with the membership written as the log's first entries:
    /// one committed ConfChange per member at indexes 1..n with term 0 (before any leader), like every
    /// later membership change, so a node that joins later learns the founders by replaying the log
    /// (this is what etcd's Bootstrap does). The host sees them in the first Ready's CommittedEntries and
    /// applies them like any ConfChange (no-ops for a founder). The first leader's entry is at n + 1.
    /// </summary>
    public static MemoryRaftStorage CreateBootstrapped(ConfState initialMembership)
    {
        var storage = new MemoryRaftStorage(initialMembership);
        foreach (var change in BootstrapChanges(initialMembership))
        {
            storage.entries.Add(new Entry(0, (ulong)storage.entries.Count, EntryType.ConfChange, change.Encode()));
        }

        storage.hardState = new HardState(0, 0, (ulong)storage.entries.Count - 1);
        return storage;
    }

    /// <summary>The ConfChanges that build <paramref name="membership"/> from nothing (voters, then learners).</summary>
    public static IEnumerable<ConfChange> BootstrapChanges(ConfState membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        foreach (var v in membership.Voters)
        {
            yield return new ConfChange(ConfChangeType.AddNode, v);
        }

        foreach (var l in membership.Learners)
        {
            yield return new ConfChange(ConfChangeType.AddLearnerNode, l);
        }
    }

    public RaftInitialState InitialState()
    {
        lock (sync)
        {
            return new RaftInitialState(hardState, restartConfState);
        }
    }

    public HardState HardState
    {
        get
        {
            lock (sync)
            {
                return hardState;
            }
        }
    }

    public void SetHardState(HardState state)
    {
        lock (sync)
        {
            hardState = state;
        }
    }

    /// <summary>
    /// Records <paramref name="confState"/> as the membership as of applied index
    /// <paramref name="appliedIndex"/>, for <see cref="InitialState"/> (a host with a durable state machine
    /// calls this with each ConfState <see cref="RawNode.ApplyConfChange"/> returns and its entry's index,
    /// and on restart with the membership it saved with the index it resumes from). It never touches the
    /// stored snapshot, whose ConfState belongs to the snapshot's own index.
    /// </summary>
    /// <remarks>The latest call wins even with a smaller index: a restarting host may pass back an older
    /// durable membership than one recorded before its crash. Snapshots created or applied afterwards at
    /// an index at or above it replace it (they are as of that later index).</remarks>
    public void SetConfState(ConfState confState, ulong appliedIndex)
    {
        ArgumentNullException.ThrowIfNull(confState);
        lock (sync)
        {
            restartConfState = confState;
            restartConfIndex = appliedIndex;
        }
    }

    /// <summary>
    /// Records <paramref name="confState"/> as the membership as of the latest applied index (bounded by
    /// the persisted commit index); see <see cref="SetConfState(ConfState, ulong)"/>, which is exact.
    /// </summary>
    public void SetConfState(ConfState confState)
    {
        ArgumentNullException.ThrowIfNull(confState);
        lock (sync)
        {
            restartConfState = confState;
            restartConfIndex = hardState.Commit;
        }
    }

    public void Entries(ulong lo, ulong hi, ulong maxSize, List<Entry> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (sync)
        {
            var offset = entries[0].Index;
            if (lo <= offset)
            {
                throw new LogCompactedException(lo, offset + 1);
            }

            var last = offset + (ulong)entries.Count - 1;
            if (hi > last + 1)
            {
                throw new LogUnavailableException(hi - 1, last);
            }

            ulong size = 0;
            for (var i = lo; i < hi; i++)
            {
                var e = entries[(int)(i - offset)];
                size += e.Size;
                if (i > lo && size > maxSize)
                {
                    break;
                }

                output.Add(e);
            }
        }
    }

    public ulong Term(ulong i)
    {
        lock (sync)
        {
            var offset = entries[0].Index;
            if (i < offset)
            {
                throw new LogCompactedException(i, offset + 1);
            }

            if (i - offset >= (ulong)entries.Count)
            {
                throw new LogUnavailableException(i, offset + (ulong)entries.Count - 1);
            }

            return entries[(int)(i - offset)].Term;
        }
    }

    public ulong FirstIndex()
    {
        lock (sync)
        {
            return entries[0].Index + 1;
        }
    }

    public ulong LastIndex()
    {
        lock (sync)
        {
            return entries[0].Index + (ulong)entries.Count - 1;
        }
    }

    public Snapshot Snapshot()
    {
        lock (sync)
        {
            return snapshot;
        }
    }

    /// <summary>Replaces the whole log with a received snapshot (the host does this for <see cref="Ready.Snapshot"/>).</summary>
    /// <exception cref="SnapshotOutOfDateException">The snapshot is older than the one held.</exception>
    public void ApplySnapshot(Snapshot incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        lock (sync)
        {
            if (incoming.Metadata.Index < snapshot.Metadata.Index)
            {
                throw new SnapshotOutOfDateException(incoming.Metadata.Index, snapshot.Metadata.Index);
            }

            snapshot = incoming;
            restartConfState = incoming.Metadata.ConfState;
            restartConfIndex = incoming.Metadata.Index;
            entries.Clear();
            entries.Add(new Entry(incoming.Metadata.Term, incoming.Metadata.Index, ReadOnlyMemory<byte>.Empty));
            if (hardState.Commit < incoming.Metadata.Index)
            {
                hardState = hardState with { Commit = incoming.Metadata.Index };
            }
        }
    }

    /// <summary>
    /// Records a snapshot of the state machine at applied index <paramref name="index"/> (the host calls
    /// this, then usually <see cref="Compact"/>); the log itself is untouched. <paramref name="confState"/>
    /// must be the membership as of <paramref name="index"/> (not a later one): it travels with the data.
    /// </summary>
    /// <exception cref="SnapshotOutOfDateException">index is not newer than the current snapshot.</exception>
    /// <exception cref="ArgumentOutOfRangeException">index is beyond the last entry.</exception>
    public Snapshot CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(confState);
        lock (sync)
        {
            if (index <= snapshot.Metadata.Index)
            {
                throw new SnapshotOutOfDateException(index, snapshot.Metadata.Index);
            }

            var offset = entries[0].Index;
            var last = offset + (ulong)entries.Count - 1;
            if (index > last)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Snapshot index is beyond the last log index {last}.");
            }

            snapshot = new Snapshot(new SnapshotMetadata(index, entries[(int)(index - offset)].Term, confState), data);
            if (index >= restartConfIndex)
            {
                restartConfState = confState;
                restartConfIndex = index;
            }

            return snapshot;
        }
    }

    /// <summary>Discards entries up to and including <paramref name="compactIndex"/>; it becomes the new compaction point.</summary>
    /// <exception cref="LogCompactedException">compactIndex is at or before the current compaction point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">compactIndex is beyond the last entry.</exception>
    public void Compact(ulong compactIndex)
    {
        lock (sync)
        {
            var offset = entries[0].Index;
            if (compactIndex <= offset)
            {
                throw new LogCompactedException(compactIndex, offset + 1);
            }

            var last = offset + (ulong)entries.Count - 1;
            if (compactIndex > last)
            {
                throw new ArgumentOutOfRangeException(nameof(compactIndex), compactIndex, $"Compaction index is beyond the last log index {last}.");
            }

            var cut = (int)(compactIndex - offset);
            var dummy = new Entry(entries[cut].Term, entries[cut].Index, ReadOnlyMemory<byte>.Empty);
            entries.RemoveRange(0, cut);
            entries[0] = dummy;
        }
    }

    /// <summary>
    /// Persists entries from a Ready. Entries that overlap the log replace the conflicting suffix;
    /// entries at or before the compaction point are ignored.
    /// </summary>
    /// <exception cref="ArgumentException">The entries are not contiguous or leave a gap after the log.</exception>
    public void Append(ReadOnlySpan<Entry> incoming)
    {
        if (incoming.IsEmpty)
        {
            return;
        }

        for (var k = 1; k < incoming.Length; k++)
        {
            if (incoming[k].Index != incoming[k - 1].Index + 1)
            {
                throw new ArgumentException($"Entries are not contiguous at index {incoming[k - 1].Index}.", nameof(incoming));
            }
        }

        lock (sync)
        {
            var first = entries[0].Index + 1;
            var lastIncoming = incoming[^1].Index;
            if (lastIncoming < first)
            {
                return;
            }

            if (incoming[0].Index < first)
            {
                incoming = incoming[(int)(first - incoming[0].Index)..];
            }

            var offset = incoming[0].Index - entries[0].Index;
            var count = (ulong)entries.Count;
            if (offset > count)
            {
                throw new ArgumentException($"Entries start at {incoming[0].Index}, leaving a gap after the last index {entries[0].Index + count - 1}.", nameof(incoming));
            }

            if (offset < count)
            {
                entries.RemoveRange((int)offset, (int)(count - offset));
            }

            foreach (var e in incoming)
            {
                entries.Add(e);
            }
        }
    }
}
