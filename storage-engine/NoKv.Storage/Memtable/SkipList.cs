using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NoKv.Storage.Memtable;

/// <summary>
/// A skiplist of internal-key entries whose nodes live in an <see cref="Arena"/>.
/// </summary>
/// <remarks>
/// Node layout (8-byte aligned): <c>keyLength:int32 valueLength:int32 height:int32 pad:int32
/// prefix:uint64 next[height]:int64 key[keyLength] value[valueLength]</c>, where prefix is the first 8 bytes of
/// the user key read big-endian (zero-padded): when two prefixes differ they order the keys exactly as a
/// bytewise comparison would, so most comparisons during a search are one integer compare on the node's
/// first cache line. Links are arena references; 0 is null (the head node sits at reference 0 and is never
/// linked to).
/// Thread safety: one writer (the write path serializes inserts); any number of lock-free readers. A new
/// node is fully written before it is published with a release write of its predecessor's link, and readers
/// follow links with acquire reads, so a reader sees either the old list or a complete new node.
/// Keys are never equal (every entry has a distinct sequence number).
/// </remarks>
internal sealed class SkipList
{
    public const int MaxHeight = 12;
    private const int NodeHeader = 24;

    private readonly Arena _arena;
    private readonly long _head;
    private int _maxHeight = 1;
    private uint _rng = 0x2545F491;

    public SkipList(Arena arena)
    {
        _arena = arena;
        _head = AllocateNode(0, 0, MaxHeight);
    }

    /// <summary>REQUIRES: external serialization of writers. Inserts a new entry.</summary>
    [SkipLocalsInit]
    public void Insert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Span<long> prev = stackalloc long[MaxHeight];
        FindGreaterOrEqual(key, prev);
        int height = RandomHeight();
        int maxHeight = _maxHeight;
        if (height > maxHeight)
        {
            for (int i = maxHeight; i < height; i++)
            {
                prev[i] = _head;
            }

            // Readers that see the new height before the node simply find null links from head.
            Volatile.Write(ref _maxHeight, height);
        }

        long node = AllocateNode(key.Length, value.Length, height);
        byte[] chunk = _arena.Chunk(node);
        int off = (int)node;
        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(off + 16), Prefix(key));
        key.CopyTo(chunk.AsSpan(off + NodeHeader + (8 * height)));
        value.CopyTo(chunk.AsSpan(off + NodeHeader + (8 * height) + key.Length));
        for (int i = 0; i < height; i++)
        {
            SetNextRelaxed(node, i, GetNext(prev[i], i));
            SetNext(prev[i], i, node);
        }
    }

    /// <summary>First node with key &gt;= <paramref name="key"/>, or 0.</summary>
    public long Seek(ReadOnlySpan<byte> key) => FindGreaterOrEqual(key, default);

    /// <summary>Last node with key &lt; <paramref name="key"/>, or 0.</summary>
    public long FindLessThan(ReadOnlySpan<byte> key)
    {
        ulong prefix = Prefix(key);
        long x = _head;
        int level = Volatile.Read(ref _maxHeight) - 1;
        while (true)
        {
            long next = GetNext(x, level);
            if (next != 0 && CompareNode(next, key, prefix) < 0)
            {
                x = next;
            }
            else if (level == 0)
            {
                return x == _head ? 0 : x;
            }
            else
            {
                level--;
            }
        }
    }

    public long First() => GetNext(_head, 0);

    public long Last()
    {
        long x = _head;
        int level = Volatile.Read(ref _maxHeight) - 1;
        while (true)
        {
            long next = GetNext(x, level);
            if (next != 0)
            {
                x = next;
            }
            else if (level == 0)
            {
                return x == _head ? 0 : x;
            }
            else
            {
                level--;
            }
        }
    }

    public long Next(long node) => GetNext(node, 0);

    public ReadOnlySpan<byte> KeyOf(long node)
    {
        byte[] chunk = _arena.Chunk(node);
        int off = (int)node;
        ref byte b = ref MemoryMarshal.GetArrayDataReference(chunk);
        int keyLength = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref b, off));
        int height = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref b, off + 8));
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, off + NodeHeader + (8 * height)), keyLength);
    }

    public ReadOnlySpan<byte> ValueOf(long node)
    {
        byte[] chunk = _arena.Chunk(node);
        int off = (int)node;
        ref byte b = ref MemoryMarshal.GetArrayDataReference(chunk);
        int keyLength = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref b, off));
        int valueLength = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref b, off + 4));
        int height = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref b, off + 8));
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, off + NodeHeader + (8 * height) + keyLength), valueLength);
    }

    /// <summary>Compares the node's key with <paramref name="key"/> (whose prefix is <paramref name="keyPrefix"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CompareNode(long node, ReadOnlySpan<byte> key, ulong keyPrefix)
    {
        byte[] chunk = _arena.Chunk(node);
        ulong nodePrefix = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (int)node + 16));
        if (!BitConverter.IsLittleEndian)
        {
            nodePrefix = BinaryPrimitives.ReverseEndianness(nodePrefix);
        }

        if (nodePrefix != keyPrefix)
        {
            return nodePrefix < keyPrefix ? -1 : 1;
        }

        return CompareWithEqualPrefix(KeyOf(node), key);
    }

    /// <summary>
    /// <see cref="InternalKey.Compare"/> for two internal keys whose prefixes are equal. Keys that share their
    /// first 8 bytes are common (fixed-width numeric keys, key prefixes per shard or table), so the rest of the
    /// user keys is compared 8 bytes at a time as big-endian integers before falling back to a byte compare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CompareWithEqualPrefix(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        ReadOnlySpan<byte> ua = a[..^InternalKey.TrailerSize];
        ReadOnlySpan<byte> ub = b[..^InternalKey.TrailerSize];
        int i = 0;
        if (ua.Length >= 8 && ub.Length >= 8)
        {
            // Equal prefixes of two keys of at least 8 bytes mean equal first 8 bytes.
            i = 8;
            while (i + 8 <= ua.Length && i + 8 <= ub.Length)
            {
                ulong x = BinaryPrimitives.ReadUInt64BigEndian(ua[i..]);
                ulong y = BinaryPrimitives.ReadUInt64BigEndian(ub[i..]);
                if (x != y)
                {
                    return x < y ? -1 : 1;
                }

                i += 8;
            }
        }

        if (i != ua.Length || i != ub.Length)
        {
            int c = ua[i..].SequenceCompareTo(ub[i..]);
            if (c != 0)
            {
                return c;
            }
        }

        return InternalKey.TrailerOf(b).CompareTo(InternalKey.TrailerOf(a));
    }

    /// <summary>First 8 bytes of the user key of an internal key, big-endian, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Prefix(ReadOnlySpan<byte> internalKey)
    {
        ReadOnlySpan<byte> user = internalKey[..^InternalKey.TrailerSize];
        if (user.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(user);
        }

        ulong v = 0;
        for (int i = 0; i < user.Length; i++)
        {
            v |= (ulong)user[i] << (56 - (8 * i));
        }

        return v;
    }

    private long FindGreaterOrEqual(ReadOnlySpan<byte> key, Span<long> prev)
    {
        ulong prefix = Prefix(key);
        long x = _head;
        int level = Volatile.Read(ref _maxHeight) - 1;
        while (true)
        {
            long next = GetNext(x, level);
            if (next != 0 && CompareNode(next, key, prefix) < 0)
            {
                x = next;
            }
            else
            {
                if (!prev.IsEmpty)
                {
                    prev[level] = x;
                }

                if (level == 0)
                {
                    return next;
                }

                level--;
            }
        }
    }

    private long AllocateNode(int keyLength, int valueLength, int height)
    {
        long size = NodeHeader + (8L * height) + keyLength + valueLength;
        if (size > int.MaxValue - 64)
        {
            throw new ArgumentException("Entry too large for the memtable.");
        }

        long node = _arena.Allocate((int)size);
        Span<byte> header = _arena.Chunk(node).AsSpan((int)node, NodeHeader);
        BinaryPrimitives.WriteInt32LittleEndian(header, keyLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], valueLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], height);
        return node;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long GetNext(long node, int level)
    {
        byte[] chunk = _arena.Chunk(node);
        ref byte b = ref MemoryMarshal.GetArrayDataReference(chunk);
        return Volatile.Read(ref Unsafe.As<byte, long>(ref Unsafe.Add(ref b, (int)node + NodeHeader + (8 * level))));
    }

    private void SetNext(long node, int level, long value)
    {
        byte[] chunk = _arena.Chunk(node);
        ref byte b = ref MemoryMarshal.GetArrayDataReference(chunk);
        Volatile.Write(ref Unsafe.As<byte, long>(ref Unsafe.Add(ref b, (int)node + NodeHeader + (8 * level))), value);
    }

    private void SetNextRelaxed(long node, int level, long value)
    {
        byte[] chunk = _arena.Chunk(node);
        ref byte b = ref MemoryMarshal.GetArrayDataReference(chunk);
        Unsafe.As<byte, long>(ref Unsafe.Add(ref b, (int)node + NodeHeader + (8 * level))) = value;
    }

    private int RandomHeight()
    {
        int height = 1;
        while (height < MaxHeight)
        {
            // xorshift32; a quarter of nodes reach each next level.
            _rng ^= _rng << 13;
            _rng ^= _rng >> 17;
            _rng ^= _rng << 5;
            if ((_rng & 3) != 0)
            {
                break;
            }

            height++;
        }

        return height;
    }
}
