using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;

namespace NoKv.Storage.Db;

/// <summary>
/// What a read needs, captured together: the mutable memtable, the frozen memtables (newest first) and the
/// current version. Replaced (never changed) whenever any of them changes. Reference counted: the database
/// holds one reference to the current one, each reader takes one for the duration of its read; when the
/// last goes the version reference is released. Thread-safe.
/// </summary>
internal sealed class SuperVersion
{
    private int _refs = 1;

    /// <param name="version">Referenced by the caller; the super version owns that reference from here on.</param>
    public SuperVersion(MemTable mem, MemTable[] immutables, Version version)
    {
        Mem = mem;
        Immutables = immutables;
        Version = version;

        // The caller (under the database mutex) holds the database's references on these; reads through this
        // super version keep the memtables' arenas from being recycled.
        mem.Ref();
        foreach (MemTable m in immutables)
        {
            m.Ref();
        }

        bool any = !version.RangeTombstones.IsEmpty;
        foreach (MemTable m in immutables)
        {
            any |= m.RangeTombstones.Count > 0;
        }

        ImmutablesOrVersionHaveRangeTombstones = any;
    }

    public MemTable Mem { get; }

    /// <summary>Frozen memtables, newest first.</summary>
    public MemTable[] Immutables { get; }

    public Version Version { get; }

    public bool ImmutablesOrVersionHaveRangeTombstones { get; }

    /// <summary>Takes a reference unless the super version is already retired.</summary>
    public bool TryRef()
    {
        int refs = Volatile.Read(ref _refs);
        while (refs > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refs, refs + 1, refs);
            if (seen == refs)
            {
                return true;
            }

            refs = seen;
        }

        return false;
    }

    public void Unref()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            Version.Unref();
            Mem.Unref();
            foreach (MemTable m in Immutables)
            {
                m.Unref();
            }
        }
    }

    /// <summary>The newest visible range-tombstone sequence covering <paramref name="userKey"/> across all sources.</summary>
    public ulong MaxCoveringTombstone(ReadOnlySpan<byte> userKey, ulong snapshot)
    {
        ulong best = Mem.RangeTombstones.MaxCoveringSequence(userKey, snapshot);
        if (ImmutablesOrVersionHaveRangeTombstones)
        {
            foreach (MemTable m in Immutables)
            {
                best = Math.Max(best, m.RangeTombstones.MaxCoveringSequence(userKey, snapshot));
            }

            best = Math.Max(best, Version.RangeTombstones.MaxCoveringSequence(userKey, snapshot));
        }

        return best;
    }
}
