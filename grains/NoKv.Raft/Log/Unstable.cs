using NoKv.Raft.Messages;

namespace NoKv.Raft.Log;

/// <summary>
/// Entries (and possibly an incoming snapshot) that this node has accepted but the host has not yet
/// reported persisted. They sit after everything in storage: entry i is at
/// <c>buffer[start + (i - offset)]</c>.
/// </summary>
/// <remarks>
/// Invariants: if a snapshot is pending, offset == snapshot index + 1. The buffer is reused: spans
/// and memories returned from it are valid only until the next mutation (the Ready contract forbids
/// mutating the node between GetReady and Advance, which makes Ready's view stable).
/// </remarks>
internal sealed class Unstable
{
    private Entry[] buffer = new Entry[64];
    private int start;
    private int count;

    public Unstable(ulong offset)
    {
        Offset = offset;
    }

    /// <summary>Index of the first unstable entry (or where it would go).</summary>
    public ulong Offset { get; private set; }

    public Snapshot? Snapshot { get; private set; }

    public int Count => count;

    public ReadOnlySpan<Entry> Entries => buffer.AsSpan(start, count);

    public ReadOnlyMemory<Entry> EntriesMemory => buffer.AsMemory(start, count);

    public ulong? MaybeFirstIndex() => Snapshot is null ? null : Snapshot.Metadata.Index + 1;

    public ulong? MaybeLastIndex()
    {
        if (count > 0)
        {
            return Offset + (ulong)count - 1;
        }

        return Snapshot?.Metadata.Index;
    }

    public bool TryTerm(ulong i, out ulong term)
    {
        if (i < Offset)
        {
            if (Snapshot is not null && Snapshot.Metadata.Index == i)
            {
                term = Snapshot.Metadata.Term;
                return true;
            }

            term = 0;
            return false;
        }

        if (i - Offset >= (ulong)count)
        {
            term = 0;
            return false;
        }

        term = buffer[start + (int)(i - Offset)].Term;
        return true;
    }

    /// <summary>Entries up to (index, term) were persisted; drop them. Ignored if that entry was since replaced.</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (!TryTerm(index, out var t) || t != term || index < Offset)
        {
            return;
        }

        var n = (int)(index + 1 - Offset);
        Array.Clear(buffer, start, n);
        start += n;
        count -= n;
        Offset = index + 1;
        if (count == 0)
        {
            start = 0;
        }
    }

    public void StableSnapTo(ulong index)
    {
        if (Snapshot is not null && Snapshot.Metadata.Index == index)
        {
            Snapshot = null;
        }
    }

    public void Restore(Snapshot snapshot)
    {
        Array.Clear(buffer, start, count);
        start = 0;
        count = 0;
        Offset = snapshot.Metadata.Index + 1;
        if (Snapshot is { } replaced && !ReferenceEquals(replaced, snapshot))
        {
            // Never handed to the host (a Ready hands out the unstable snapshot and Advance clears it before the next
            // Step), so its payload is released here or nowhere.
            replaced.Release();
        }

        Snapshot = snapshot;
    }

    /// <summary>Appends entries, replacing any unstable suffix they conflict with. REQUIRES: contiguous entries.</summary>
    public void TruncateAndAppend(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }

        var from = entries[0].Index;
        var end = Offset + (ulong)count;
        if (from == end)
        {
            // The common case: extend.
        }
        else if (from <= Offset)
        {
            // Replaces everything unstable (and, the caller ensures, nothing persisted beyond from).
            Array.Clear(buffer, start, count);
            start = 0;
            count = 0;
            Offset = from;
        }
        else if (from < end)
        {
            var keep = (int)(from - Offset);
            Array.Clear(buffer, start + keep, count - keep);
            count = keep;
        }
        else
        {
            throw new InvalidOperationException($"Unstable append at {from} leaves a gap after {end - 1}.");
        }

        EnsureRoom(entries.Length);
        entries.CopyTo(buffer.AsSpan(start + count));
        count += entries.Length;
    }

    /// <summary>Appends a single entry at the end. REQUIRES: entry.Index == Offset + Count.</summary>
    public void Append(in Entry entry)
    {
        EnsureRoom(1);
        buffer[start + count] = entry;
        count++;
    }

    /// <summary>Unstable entries [lo, hi). REQUIRES: Offset &lt;= lo &lt;= hi &lt;= Offset + Count.</summary>
    public ReadOnlySpan<Entry> Slice(ulong lo, ulong hi)
    {
        if (lo < Offset || hi > Offset + (ulong)count || lo > hi)
        {
            throw new InvalidOperationException($"Unstable slice [{lo}, {hi}) is outside [{Offset}, {Offset + (ulong)count}).");
        }

        return buffer.AsSpan(start + (int)(lo - Offset), (int)(hi - lo));
    }

    private void EnsureRoom(int n)
    {
        if (start + count + n <= buffer.Length)
        {
            return;
        }

        if (count + n <= buffer.Length / 2)
        {
            // Plenty of room once the persisted prefix is reclaimed: slide down instead of growing.
            Array.Copy(buffer, start, buffer, 0, count);
            Array.Clear(buffer, count, start);
            start = 0;
            return;
        }

        var size = buffer.Length * 2;
        while (size < count + n)
        {
            size *= 2;
        }

        var grown = new Entry[size];
        Array.Copy(buffer, start, grown, 0, count);
        buffer = grown;
        start = 0;
    }
}
