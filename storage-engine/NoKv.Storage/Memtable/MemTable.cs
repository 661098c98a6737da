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
/// frozen (immutable, queued for flush) it is never written again. Lifetime is GC-managed (no files).
/// </remarks>
internal sealed class MemTable
{
    private const int EntryOverhead = 16 + 8 + 8;

    private readonly Arena _arena;
    private readonly SkipList _list;
    private readonly RangeTombstoneList _rangeTombstones = new();
    private long _approximateSize;
    private long _entries;

    public MemTable(ulong logNumber, long targetSize)
    {
        LogNumber = logNumber;
        _arena = new Arena((int)Math.Clamp(targetSize / 8, 16 << 10, 1 << 20));
        _list = new SkipList(_arena);
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
