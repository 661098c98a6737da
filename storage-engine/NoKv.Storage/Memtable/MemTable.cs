using System.Buffers;
using System.Runtime.CompilerServices;
using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Memtable;

/// <summary>
/// The in-memory write buffer: point entries in an arena skiplist keyed by internal key, range tombstones
/// in a side list. Backed by one WAL file (<see cref="LogNumber"/>) until flushed.
/// </summary>
/// <remarks>
/// Thread safety: one writer at a time (the group-commit leader, or recovery); lock-free readers. Once
/// frozen (immutable, queued for flush) it is never written again. Reference counted when its arena comes from
/// an <see cref="ArenaChunkPool"/>: the creator holds the first reference (the database, until the memtable is
/// flushed), every super version one more; the last <see cref="Unref"/> gives the arena's chunks back to the
/// pool. Without a pool the count is unused and the GC reclaims the arena.
/// </remarks>
internal sealed class MemTable
{
    private const int EntryOverhead = 16 + 8 + 8;

    private readonly Arena _arena;
    private readonly SkipList _list;
    private readonly RangeTombstoneList _rangeTombstones = new();
    private long _approximateSize;
    private long _entries;
    private int _refs = 1;

    /// <param name="pool">Recycles the arena's chunks (its chunk size must be <see cref="ArenaChunkSize"/> of
    /// <paramref name="targetSize"/>); null leaves them to the GC.</param>
    public MemTable(ulong logNumber, long targetSize, ArenaChunkPool? pool = null)
    {
        LogNumber = logNumber;
        _arena = new Arena(ArenaChunkSize(targetSize), pool);
        _list = new SkipList(_arena);
    }

    /// <summary>The arena chunk size of a memtable frozen at <paramref name="targetSize"/> bytes: an eighth, within 16 KiB-1 MiB.</summary>
    public static int ArenaChunkSize(long targetSize) => (int)Math.Clamp(targetSize / 8, 16 << 10, 1 << 20);

    /// <summary>Takes a reference. REQUIRES: the caller already holds one (or knows the holder's is not released meanwhile).</summary>
    public void Ref() => Interlocked.Increment(ref _refs);

    /// <summary>Drops a reference; the last one releases the arena to its pool, after which nothing may read this memtable.</summary>
    public void Unref()
    {
        int refs = Interlocked.Decrement(ref _refs);
        if (refs == 0)
        {
            _arena.Release();
        }
        else if (refs < 0)
        {
            throw new InvalidOperationException("A memtable was released more often than it was referenced.");
        }
    }

    /// <summary>The WAL file that holds this memtable's writes.</summary>
    public ulong LogNumber { get; }

    /// <summary>Bytes of entries inserted (keys, values, per-entry overhead); what the size limit checks.</summary>
    public long ApproximateSize => Volatile.Read(ref _approximateSize);

    /// <summary>Arena memory held.</summary>
    public long MemoryUsage => _arena.MemoryUsage;

    public long EntryCount => Volatile.Read(ref _entries);

    public bool IsEmpty => EntryCount == 0 && _rangeTombstones.Count == 0;

    public RangeTombstoneList RangeTombstones => _rangeTombstones;

    internal SkipList List => _list;

    /// <summary>REQUIRES: one writer at a time.</summary>
    [SkipLocalsInit]
    public void Add(ulong sequence, ValueKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (kind == ValueKind.RangeDeletion)
        {
            _rangeTombstones.Add(new RangeTombstone(key.ToArray(), value.ToArray(), sequence));
        }
        else
        {
            int len = key.Length + InternalKey.TrailerSize;
            byte[]? rented = null;
            Span<byte> ikey = len <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(len));
            InternalKey.Write(ikey, key, InternalKey.Trailer(sequence, kind));
            _list.Insert(ikey[..len], value);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        Interlocked.Increment(ref _entries);
        Volatile.Write(ref _approximateSize, _approximateSize + key.Length + value.Length + EntryOverhead);
    }

    /// <summary>
    /// Finds the newest version of <paramref name="userKey"/> with sequence &lt;= <paramref name="snapshot"/>.
    /// Range tombstones are not applied here (the caller combines them across all sources).
    /// </summary>
    [SkipLocalsInit]
    public MemtableGetResult Get(ReadOnlySpan<byte> userKey, ulong snapshot, out ReadOnlySpan<byte> value, out ulong sequence)
    {
        value = default;
        sequence = 0;
        int len = userKey.Length + InternalKey.TrailerSize;
        byte[]? rented = null;
        Span<byte> ikey = len <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(len));
        InternalKey.Write(ikey, userKey, (snapshot << 8) | 0xFF);
        long node = _list.Seek(ikey[..len]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        if (node == 0)
        {
            return MemtableGetResult.NotFound;
        }

        ReadOnlySpan<byte> found = _list.KeyOf(node);
        if (!InternalKey.UserKey(found).SequenceEqual(userKey))
        {
            return MemtableGetResult.NotFound;
        }

        ulong trailer = InternalKey.TrailerOf(found);
        sequence = trailer >> 8;
        if ((ValueKind)(byte)trailer == ValueKind.Value)
        {
            value = _list.ValueOf(node);
            return MemtableGetResult.Found;
        }

        return MemtableGetResult.Deleted;
    }

    public MemTableIterator NewIterator() => new(_list);
}
