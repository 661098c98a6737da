using NoKv.Storage.Cache;
using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Manifest;

/// <summary>
/// One live table file as the manifest records it. Immutable except for the reference count and the
/// compaction flag.
/// </summary>
/// <remarks>
/// <see cref="Smallest"/> and <see cref="Largest"/> are internal keys bounding everything the file holds,
/// its range tombstones included: a tombstone [s, e) extends the bounds to (s, seq) .. (e, max trailer), and
/// the max trailer sorts before every real version of e, so a file that ends with a tombstone at e never
/// appears to contain e. The range tombstones of a file are stored in the manifest (not in the table), so a
/// version knows all of them without reading any table.
/// </remarks>
internal sealed class FileMetaData
{
    private int _refs;
    private TableCacheEntry? _pinnedTable;

    // Seeks charged by reads that had to consult this table and another (see Compaction.ReadCompactionTracker).
    private long _seekCharges;

    // Charges at which the table is queued again after a pick found its compaction not yet paid for (0 = none).
    private long _seekRequeueAt;

    public required ulong Number { get; init; }

    public required long Size { get; init; }

    public required byte[] Smallest { get; init; }

    public required byte[] Largest { get; init; }

    public required ulong SmallestSequence { get; init; }

    public required ulong LargestSequence { get; init; }

    /// <summary>Point entries in the table (0 for a file that only carries range tombstones).</summary>
    public long EntryCount { get; init; }

    public RangeTombstone[] RangeTombstones { get; init; } = [];

    /// <summary>
    /// Numbers of the value files this table's pointer entries point into, ascending and distinct (empty when it
    /// holds no pointer). Set once, before the file enters any version; what keeps those value files alive.
    /// </summary>
    public ulong[] ValueFiles { get; set; } = [];

    /// <summary>Sum of the sizes of the values this table's pointers point to (what the table stands for on disk beyond <see cref="Size"/>).</summary>
    public long SeparatedValueBytes { get; set; }

    /// <summary>Set while a compaction has this file among its inputs. Guarded by the database's compaction lock.</summary>
    public bool BeingCompacted { get; set; }

    public ReadOnlySpan<byte> SmallestUserKey => InternalKey.UserKey(Smallest);

    public ReadOnlySpan<byte> LargestUserKey => InternalKey.UserKey(Largest);

    /// <summary>
    /// The open table that point reads use without touching the table cache, once pinned by the database's
    /// <see cref="Db.TablePins"/> (null before). Set at most once; the pin's reference is dropped when the file
    /// becomes obsolete, after which no version (and so no reader) can reach this object any more.
    /// </summary>
    public TableCacheEntry? PinnedTable => Volatile.Read(ref _pinnedTable);

    /// <summary>Sets <see cref="PinnedTable"/> if unset; false if another thread pinned first.</summary>
    public bool TrySetPinnedTable(TableCacheEntry entry) => Interlocked.CompareExchange(ref _pinnedTable, entry, null) is null;

    /// <summary>Adds one read-compaction seek charge and returns the total so far. Thread-safe.</summary>
    public long AddSeekCharge() => Interlocked.Increment(ref _seekCharges);

    /// <summary>
    /// Starts a fresh read-compaction budget: a trivial move reuses this object one level down, where the
    /// reads it costs are a new question. Charges racing with the reset may be lost, which only delays a
    /// read-triggered compaction.
    /// </summary>
    public void ResetSeekCharges()
    {
        Interlocked.Exchange(ref _seekCharges, 0);
        Volatile.Write(ref _seekRequeueAt, 0);
    }

    /// <summary>Read-compaction seeks charged so far.</summary>
    public long SeekCharges => Interlocked.Read(ref _seekCharges);

    /// <summary>
    /// The charge count at which the table is queued for a read-triggered compaction again, set when a pick found
    /// that its compaction would rewrite more than its charges pay for (0 = not deferred).
    /// </summary>
    public long SeekRequeueAt
    {
        get => Volatile.Read(ref _seekRequeueAt);
        set => Volatile.Write(ref _seekRequeueAt, value);
    }

    public void Ref() => Interlocked.Increment(ref _refs);

    /// <summary>Returns true when the last reference is gone (no version holds the file any more).</summary>
    public bool Unref() => Interlocked.Decrement(ref _refs) == 0;
}
