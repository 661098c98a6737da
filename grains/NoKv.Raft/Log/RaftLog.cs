using NoKv.Raft.Messages;
using NoKv.Raft.Storage;

namespace NoKv.Raft.Log;

/// <summary>
/// A node's view of its log: the persisted part (through <see cref="IRaftStorage"/>) followed by the
/// unstable part, plus the commit and applied indexes.
/// </summary>
/// <remarks>
/// Invariants: applied &lt;= committed &lt;= LastIndex(); FirstIndex() - 1 &lt;= applied (entries at or
/// below the snapshot are never re-delivered). Committed never decreases.
/// </remarks>
internal sealed class RaftLog
{
    private readonly IRaftStorage storage;
    private readonly List<Entry> scratch = new();
    private readonly ulong maxApplySize;
    private Entry[] committedBuffer = new Entry[64];

    public RaftLog(IRaftStorage storage, ulong maxApplySize)
    {
        this.storage = storage;
        this.maxApplySize = maxApplySize;
        var first = storage.FirstIndex();
        var last = storage.LastIndex();
        Unstable = new Unstable(last + 1);
        Committed = first - 1;
        Applied = first - 1;
    }

    public Unstable Unstable { get; }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public ulong FirstIndex() => Unstable.MaybeFirstIndex() ?? storage.FirstIndex();

    public ulong LastIndex() => Unstable.MaybeLastIndex() ?? storage.LastIndex();

    public ulong LastTerm() => TryTerm(LastIndex(), out var t) ? t : throw new InvalidOperationException("The term of the last log entry is unavailable.");

    /// <summary>Term of entry i, or false if i is compacted or beyond the log.</summary>
    public bool TryTerm(ulong i, out ulong term)
    {
        if (Unstable.TryTerm(i, out term))
        {
            return true;
        }

        var dummy = FirstIndex() - 1;
        if (i < dummy || i > LastIndex())
        {
            term = 0;
            return false;
        }

        try
        {
            term = storage.Term(i);
            return true;
        }
        catch (LogCompactedException)
        {
            term = 0;
            return false;
        }
        catch (LogUnavailableException)
        {
            term = 0;
            return false;
        }
    }

    /// <summary>Term of entry i, 0 if unavailable.</summary>
    public ulong Term(ulong i) => TryTerm(i, out var t) ? t : 0;

    public bool MatchTerm(ulong i, ulong term) => TryTerm(i, out var t) && t == term;

    /// <summary>
    /// Follower side of Append: if our log has (index, logTerm), append entries (dropping any
    /// conflicting suffix), advance commit to min(committed, last new index), and return the last new
    /// index. Returns false (log mismatch) otherwise.
    /// </summary>
    public bool MaybeAppend(ulong index, ulong logTerm, ulong committed, ReadOnlySpan<Entry> entries, out ulong lastNewIndex)
    {
        if (!MatchTerm(index, logTerm))
        {
            lastNewIndex = 0;
            return false;
        }

        lastNewIndex = index + (ulong)entries.Length;
        var conflict = FindConflict(entries);
        if (conflict != 0)
        {
            if (conflict <= Committed)
            {
                throw new InvalidOperationException($"Entry {conflict} conflicts with committed entry (committed {Committed}): log matching violated.");
            }

            var offset = index + 1;
            Append(entries[(int)(conflict - offset)..]);
        }

        CommitTo(Math.Min(committed, lastNewIndex));
        return true;
    }

    /// <summary>Appends entries after whatever precedes entries[0].Index. Returns the new last index.</summary>
    public ulong Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return LastIndex();
        }

        var after = entries[0].Index - 1;
        if (after < Committed)
        {
            throw new InvalidOperationException($"Appending after {after} would overwrite committed entries (committed {Committed}).");
        }

        Unstable.TruncateAndAppend(entries);
        return LastIndex();
    }

    /// <summary>Appends one entry at the end of the log (the leader's proposal path).</summary>
    public void AppendOne(in Entry entry) => Unstable.Append(entry);

    /// <summary>
    /// The index of the first entry whose term differs from ours (or which we do not have); 0 if every
    /// entry is already present with the same term.
    /// </summary>
    public ulong FindConflict(ReadOnlySpan<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (!MatchTerm(e.Index, e.Term))
            {
                return e.Index;
            }
        }

        return 0;
    }

    /// <summary>
    /// Fast backtracking: the largest index &lt;= <paramref name="index"/> whose term is &lt;= <paramref name="term"/>
    /// (or whose term we cannot know). Entries after it cannot match a log whose entry at
    /// <paramref name="index"/> has <paramref name="term"/>, so the probe can skip them.
    /// </summary>
    public ulong FindConflictByTerm(ulong index, ulong term, out ulong termAtResult)
    {
        while (true)
        {
            if (!TryTerm(index, out var t))
            {
                termAtResult = 0;
                return index;
            }

            if (t <= term)
            {
                termAtResult = t;
                return index;
            }

            index--;
        }
    }

    public bool HasNextCommittedEntries() => Committed > Applied && Committed + 1 > FirstIndex() && Applied + 1 >= FirstIndex();

    /// <summary>
    /// Committed entries not yet handed to the host, up to the per-Ready size limit. The returned memory
    /// is a reusable buffer valid until the next call.
    /// </summary>
    public ReadOnlyMemory<Entry> NextCommittedEntries(ulong appliedCursor)
    {
        var lo = Math.Max(appliedCursor + 1, FirstIndex());
        var hi = Committed + 1;
        if (lo >= hi)
        {
            return ReadOnlyMemory<Entry>.Empty;
        }

        scratch.Clear();
        Slice(lo, hi, maxApplySize, scratch);
        if (committedBuffer.Length < scratch.Count)
        {
            committedBuffer = new Entry[Math.Max(scratch.Count, committedBuffer.Length * 2)];
        }

        scratch.CopyTo(committedBuffer);
        var n = scratch.Count;
        scratch.Clear();
        return committedBuffer.AsMemory(0, n);
    }

    /// <summary>Appends entries [lo, hi) to output, limited to maxSize bytes but at least one entry.</summary>
    /// <exception cref="LogCompactedException">lo is compacted.</exception>
    public void Slice(ulong lo, ulong hi, ulong maxSize, List<Entry> output)
    {
        if (lo >= hi)
        {
            return;
        }

        var first = FirstIndex();
        if (lo < first)
        {
            throw new LogCompactedException(lo, first);
        }

        var last = LastIndex();
        if (hi > last + 1)
        {
            throw new InvalidOperationException($"Slice [{lo}, {hi}) is beyond the last index {last}.");
        }

        var startCount = output.Count;
        ulong size = 0;
        if (lo < Unstable.Offset)
        {
            var storageHi = Math.Min(hi, Unstable.Offset);
            storage.Entries(lo, storageHi, maxSize, output);
            for (var k = startCount; k < output.Count; k++)
            {
                size += output[k].Size;
            }

            // Storage stopped early because of the size limit: do not continue with unstable entries.
            if ((ulong)(output.Count - startCount) < storageHi - lo)
            {
                return;
            }
        }

        if (hi > Unstable.Offset)
        {
            var span = Unstable.Slice(Math.Max(lo, Unstable.Offset), hi);
            foreach (var e in span)
            {
                size += e.Size;
                if (output.Count > startCount && size > maxSize)
                {
                    break;
                }

                output.Add(e);
            }
        }
    }

    /// <summary>Advances commit if <paramref name="maxIndex"/> is ours with <paramref name="term"/> (a leader commits only entries of its own term by counting).</summary>
    public bool MaybeCommit(ulong maxIndex, ulong term)
    {
        if (maxIndex > Committed && TryTerm(maxIndex, out var t) && t == term)
        {
            CommitTo(maxIndex);
            return true;
        }

        return false;
    }

    public void CommitTo(ulong index)
    {
        if (index <= Committed)
        {
            return;
        }

        var last = LastIndex();
        if (index > last)
        {
            throw new InvalidOperationException($"Commit index {index} is beyond the last index {last}: the log was corrupted, truncated or lost.");
        }

        Committed = index;
    }

    public void AppliedTo(ulong index)
    {
        if (index == 0)
        {
            return;
        }

        if (index > Committed || index < Applied)
        {
            throw new InvalidOperationException($"Applied index {index} is outside [{Applied}, {Committed}].");
        }

        Applied = index;
    }

    /// <summary>
    /// Sets the starting applied index (from <see cref="RaftConfig.Applied"/>). A host may restart with
    /// a state machine ahead of the persisted commit (if its apply is durable); commit follows it.
    /// </summary>
    public void InitApplied(ulong applied, ulong persistedCommit)
    {
        var last = LastIndex();
        if (persistedCommit > last)
        {
            throw new InvalidOperationException($"Persisted commit {persistedCommit} is beyond the last log index {last}: the log lost acknowledged entries.");
        }

        Committed = Math.Max(Committed, persistedCommit);
        if (applied > Committed)
        {
            if (applied > last)
            {
                throw new InvalidOperationException($"Applied index {applied} is beyond the last log index {last}.");
            }

            Committed = applied;
        }

        if (applied > Applied)
        {
            Applied = applied;
        }
    }

    public void StableTo(ulong index, ulong term) => Unstable.StableTo(index, term);

    public void StableSnapTo(ulong index) => Unstable.StableSnapTo(index);

    /// <summary>Is a log ending at (lastIndex, lastTerm) at least as up to date as ours? (Raft §5.4.1)</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm)
    {
        var ourTerm = LastTerm();
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex());
    }

    /// <summary>Replaces the log with a snapshot (entries beyond are discarded; commit jumps to the snapshot).</summary>
    public void Restore(Snapshot snapshot)
    {
        Committed = snapshot.Metadata.Index;
        Unstable.Restore(snapshot);
    }

    /// <summary>The snapshot to send to a lagging follower: pending unstable one, else storage's.</summary>
    public Snapshot Snapshot() => Unstable.Snapshot ?? storage.Snapshot();

    /// <summary>Entries from i onward, up to maxSize bytes (at least one), into output.</summary>
    public void EntriesFrom(ulong i, ulong maxSize, List<Entry> output)
    {
        var last = LastIndex();
        if (i > last)
        {
            return;
        }

        Slice(i, last + 1, maxSize, output);
    }
}
