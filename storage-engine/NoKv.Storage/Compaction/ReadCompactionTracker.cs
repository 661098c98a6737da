using System.Runtime.CompilerServices;
using NoKv.Storage.Manifest;

namespace NoKv.Storage.Compaction;

/// <summary>
/// Read-triggered compaction: reads that have to look at more than one table charge "seeks" to the
/// topmost of those tables, and a table whose charges reach its budget becomes a compaction candidate.
/// Compacting it merges it into the level below, so later reads of its key range consult one table fewer.
/// This is what fixes a tree that stopped receiving writes in a read-costly shape (level-0 files below the
/// file-count trigger, a level just under its size target): no size-based rule would ever touch it.
/// </summary>
/// <remarks>
/// Cost model. A table's budget is <c>max(MinSeeks, Size / BytesPerSeek)</c> seeks: the bigger a table, the
/// more a compaction of it costs, so the more wasted reads it may cause first. When the compaction thread takes
/// the table, the whole compaction is priced the same way (<see cref="RewriteBudget"/>: its inputs plus the next
/// level's overlap); if the charges do not cover it yet, the table is put back (<see cref="Defer"/>) and queued
/// again once they do, so a small level-0 table over a large level 1 does not rewrite all of level 1 on the
/// charges of its own size. What counts as one seek:
/// <list type="bullet">
/// <item>A point read that consulted two or more tables (bloom probes included) is a "multi-table get".
/// A bloom probe is cheap next to a data-block fetch, so only one such get in <see cref="GetSamplePeriod"/>
/// per thread is charged, as one seek, to the first table it consulted. Sampling also keeps the atomic
/// charge off the point-read path (and off a cache line that every reader shares).</item>
/// <item>An iterator samples about once per <see cref="IteratorSamplePeriodBytes"/> of data it reads (a
/// seek counts as one block per table it positions); at the sampled key, if two or more tables of its
/// version overlap the key, the topmost one is charged one seek.</item>
/// </list>
/// Bounds: each table crosses its budget once (its charges are never reset), so every table is enqueued at
/// most once; the queue holds at most <see cref="MaxCandidates"/> tables; the database runs a read-triggered
/// compaction only when no size-triggered compaction is due and no memtable is waiting to be flushed, and
/// skips one whose next-level overlap is more than 25 target-size files (too wide to pay off); and a
/// compaction's output lands one level down with fresh budgets, so, without new writes, read-triggered
/// compactions end once every key lives in one table.
/// Thread safety: charging is called from any reader thread; <see cref="TryTake"/> from the compaction
/// thread. The candidate queue has its own lock (never held while taking another).
/// </remarks>
internal sealed class ReadCompactionTracker
{
    /// <summary>One multi-table point read in this many (per thread) is charged.</summary>
    public const int GetSamplePeriod = 16;

    /// <summary>Most tables waiting for a read-triggered compaction; further ones are dropped (and never retried).</summary>
    public const int MaxCandidates = 64;

    [ThreadStatic]
    private static int t_getCountdown;

    private readonly long _bytesPerSeek;
    private readonly int _minSeeks;
    private readonly Action _schedule;
    private readonly List<FileMetaData> _candidates = [];
    private long _chargedSeeks;
    private long _dropped;
    private long _tooWide;
    private long _deferred;

    /// <param name="options">The enabled flag and budget settings.</param>
    /// <param name="schedule">Wakes the compaction thread; called (outside any lock here) when a table is enqueued.</param>
    public ReadCompactionTracker(StorageOptions options, Action schedule)
    {
        Enabled = options.ReadTriggeredCompaction;
        _bytesPerSeek = options.ReadCompactionBytesPerSeek;
        _minSeeks = options.ReadCompactionMinSeeks;
        IteratorSamplePeriodBytes = options.ReadSamplePeriodBytes;
        BlockBytes = options.BlockSizeBytes;
        _schedule = schedule;
    }

    public bool Enabled { get; }

    /// <summary>Mean bytes an iterator reads between two samples.</summary>
    public long IteratorSamplePeriodBytes { get; }

    /// <summary>What an iterator seek counts per table it positions: one data block.</summary>
    public long BlockBytes { get; }

    /// <summary>Seeks charged to tables so far (each sampled multi-table get or iterator sample that found overlap).</summary>
    public long ChargedSeeks => Interlocked.Read(ref _chargedSeeks);

    /// <summary>Tables that reached their budget while the queue was full.</summary>
    public long DroppedCandidates => Interlocked.Read(ref _dropped);

    /// <summary>Candidates skipped because compacting them would have rewritten too much of the next level.</summary>
    public long TooWideCandidates => Interlocked.Read(ref _tooWide);

    /// <summary>The compaction thread skipped a candidate as too wide.</summary>
    public void NoteTooWide() => Interlocked.Increment(ref _tooWide);

    /// <summary>Seeks <paramref name="file"/> may be charged before it is first queued for compaction.</summary>
    public long Budget(FileMetaData file) => Math.Max(_minSeeks, file.Size / _bytesPerSeek);

    /// <summary>
    /// Seeks a read-triggered compaction that rewrites <paramref name="rewriteBytes"/> (its inputs and the next level's
    /// overlap) must have been charged to its table before it runs: the same rate as <see cref="Budget"/>, applied to
    /// what the compaction writes rather than to the table alone.
    /// </summary>
    public long RewriteBudget(long rewriteBytes) => Math.Max(_minSeeks, rewriteBytes / _bytesPerSeek);

    /// <summary>Candidates put back because their compaction would rewrite more than their charges pay for.</summary>
    public long DeferredCandidates => Interlocked.Read(ref _deferred);

    /// <summary>
    /// The compaction thread took <paramref name="file"/> but its compaction is not paid for yet: it is queued again
    /// when its charges reach <paramref name="budget"/> (<see cref="RewriteBudget"/> of the plan).
    /// </summary>
    public void Defer(FileMetaData file, long budget)
    {
        Interlocked.Increment(ref _deferred);
        file.SeekRequeueAt = Math.Max(budget, file.SeekCharges + 1);
    }

    /// <summary>
    /// Called by a point read as it is about to consult another table after reading a data block of
    /// <paramref name="first"/> without finding its key (a table whose filter ruled the key out is not charged).
    /// Cheap unless this read is the sampled one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnMultiTableGet(FileMetaData first)
    {
        if (--t_getCountdown <= 0)
        {
            t_getCountdown = GetSamplePeriod;
            Charge(first);
        }
    }

    /// <summary>
    /// An iterator's sample at <paramref name="userKey"/> in <paramref name="v"/>: charges the topmost table
    /// overlapping the key if at least two do. Tombstone-only files are not tables a read consults.
    /// </summary>
    public void SampleIteratorKey(Version v, ReadOnlySpan<byte> userKey)
    {
        FileMetaData? first = null;
        foreach (FileMetaData f in v.Files[0])
        {
            if (f.EntryCount > 0 && userKey.SequenceCompareTo(f.SmallestUserKey) >= 0 && userKey.SequenceCompareTo(f.LargestUserKey) <= 0)
            {
                if (first is not null)
                {
                    Charge(first);
                    return;
                }

                first = f;
            }
        }

        for (int level = 1; level < v.NumLevels; level++)
        {
            FileMetaData? f = FindInLevel(v.Files[level], userKey);
            if (f is null || f.EntryCount == 0)
            {
                continue;
            }

            if (first is not null)
            {
                Charge(first);
                return;
            }

            first = f;
        }
    }

    /// <summary>
    /// The next queued table still live in <paramref name="v"/> (and not on its last level, which has nothing
    /// below to merge into), with its level; false when none is left. Stale entries are discarded.
    /// Compaction thread only.
    /// </summary>
    public bool TryTake(Version v, out FileMetaData file, out int level)
    {
        lock (_candidates)
        {
            while (_candidates.Count > 0)
            {
                FileMetaData f = _candidates[0];
                _candidates.RemoveAt(0);
                int l = LevelOf(v, f);
                if (l >= 0 && l < v.NumLevels - 1)
                {
                    file = f;
                    level = l;
                    return true;
                }
            }
        }

        file = null!;
        level = -1;
        return false;
    }

    /// <summary>Whether any table is waiting (it may have become stale).</summary>
    public bool HasCandidates
    {
        get
        {
            lock (_candidates)
            {
                return _candidates.Count > 0;
            }
        }
    }

    private void Charge(FileMetaData file)
    {
        Interlocked.Increment(ref _chargedSeeks);
        long budget = Math.Max(Budget(file), file.SeekRequeueAt);
        if (file.AddSeekCharge() != budget)
        {
            // Below the budget, or already past it (queued once when it got there).
            return;
        }

        lock (_candidates)
        {
            if (_candidates.Count >= MaxCandidates)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }

            _candidates.Add(file);
        }

        _schedule();
    }

    private static FileMetaData? FindInLevel(FileMetaData[] files, ReadOnlySpan<byte> userKey)
    {
        // Sorted, disjoint level: the only candidate is the first file whose largest user key is >= userKey.
        int lo = 0;
        int hi = files.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (files[mid].LargestUserKey.SequenceCompareTo(userKey) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo < files.Length && files[lo].SmallestUserKey.SequenceCompareTo(userKey) <= 0 ? files[lo] : null;
    }

    private static int LevelOf(Version v, FileMetaData f)
    {
        for (int level = 0; level < v.NumLevels; level++)
        {
            if (Array.IndexOf(v.Files[level], f) >= 0)
            {
                return level;
            }
        }

        return -1;
    }
}
