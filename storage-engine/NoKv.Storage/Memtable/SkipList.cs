using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NoKv.Storage.Memtable;

/// <summary>
/// A skiplist of internal-key entries whose nodes live in an <see cref="Arena"/>.
/// </summary>
/// <remarks>
/// Node layout (8-byte aligned): <c>keyLength:int32 valueLength:int32 height:int32 pad:int32
/// prefix:uint64 prefix2:uint64 next[height]:int64 key[keyLength] value[valueLength]</c>, where prefix and prefix2
/// are the user key's bytes 0-7 and 8-15 read big-endian (zero-padded): when they differ they order the keys
/// exactly as a bytewise comparison would, so most comparisons during a search are integer compares in the
/// node's header. Why two words: keys with a long shared head are the rule in a store, not the exception (a
/// type tag and a shard id, fixed-width decimal keys); with one word, every comparison among them went on to
/// read the key itself, one more cache line per visited node in a memtable far larger than the CPU caches. Links are arena references; 0 is null (the head node sits at reference 0 and is never
/// linked to).
/// Thread safety: one writer (the write path serializes inserts); any number of lock-free readers. A new
/// node is fully written before it is published with a release write of its predecessor's link, and readers
/// follow links with acquire reads, so a reader sees either the old list or a complete new node.
/// Keys are never equal (every entry has a distinct sequence number).
/// </remarks>
internal sealed class SkipList
{
    public const int MaxHeight = 12;
    private const int NodeHeader = 32;

    // Remembered insert positions, one per slot; a key's slot is chosen by its SequenceTag. 64 slots leave room
    // for the few sequences a store writes at once (a log and two state rows per replica) plus random keys.
    private const int SpliceSlots = 64;
    private const int MaxSpliceScore = 16;
    private const int SpliceMissPenalty = 8;

    // Key comparisons a splice may spend finding the level that brackets the key, and walking over nodes that
    // other sequences inserted since it was recorded, before the insert falls back to a search from the head.
    private const int MaxBracketChecks = 3;
    private const int MaxSpliceWalk = 24;

    private readonly Arena _arena;
    private readonly long _head;
    private readonly InsertSplice?[] _splices = new InsertSplice?[SpliceSlots];
    private int _maxHeight = 1;
    private uint _rng = 0x2545F491;
    private long _splicePlaced;

    public SkipList(Arena arena)
    {
        _arena = arena;
        _head = AllocateNode(0, 0, MaxHeight);

        // The arena may hand out a recycled chunk: the head's key prefixes and links start null explicitly.
        _arena.Chunk(_head).AsSpan((int)_head + 16, NodeHeader - 16 + (8 * MaxHeight)).Clear();
    }

    /// <summary>Inserts placed from a remembered splice rather than by a search from the head (writer's view; for tests and diagnostics).</summary>
    public long SplicePlacedCount => _splicePlaced;

    /// <summary>REQUIRES: external serialization of writers. Inserts a new entry.</summary>
    [SkipLocalsInit]
    public void Insert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Span<long> prev = stackalloc long[MaxHeight];
        Span<long> next = stackalloc long[MaxHeight];
        ulong prefix = Prefix(key);
        ulong prefix2 = Prefix2(key);
        int height = RandomHeight();
        int top = _maxHeight;
        ulong tag = SequenceTag(key);
        ref InsertSplice? slotRef = ref _splices[(int)(tag & (SpliceSlots - 1))];
        InsertSplice slot = slotRef ??= new InsertSplice { Tag = tag };
        bool placed = false;
        if (slot.Tag == tag)
        {
            if (slot.Score >= 0)
            {
                placed = TryFindFromSplice(slot, key, prefix, prefix2, top, height, prev, next);
                slot.Score = placed ? Math.Min(slot.Score + 1, MaxSpliceScore) : slot.Score - SpliceMissPenalty;
            }
            else
            {
                // Predicting badly: skip it for a while, then try again (the keys may have turned sequential).
                slot.Score++;
            }
        }
        else if (slot.Score <= 0)
        {
            // A weak owner gives the slot up. The recorded splice stays valid as a starting point (the invariant
            // holds for any recorded splice), and the first insert below overwrites it anyway.
            slot.Tag = tag;
            slot.Score = 0;
        }
        else
        {
            slot.Score--;
        }

        if (placed)
        {
            _splicePlaced++;
        }
        else
        {
            FindSplice(key, prefix, prefix2, top, prev, next);
        }

        if (height > top)
        {
            for (int i = top; i < height; i++)
            {
                prev[i] = _head;
                next[i] = 0;
            }

            // Readers that see the new height before the node simply find null links from head.
            Volatile.Write(ref _maxHeight, height);
        }

        long node = AllocateNode(key.Length, value.Length, height);
        byte[] chunk = _arena.Chunk(node);
        int off = (int)node;
        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(off + 16), prefix);
        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(off + 24), prefix2);
        key.CopyTo(chunk.AsSpan(off + NodeHeader + (8 * height)));
        value.CopyTo(chunk.AsSpan(off + NodeHeader + (8 * height) + key.Length));
        for (int i = 0; i < height; i++)
        {
            // next[i] is prev[i]'s successor at level i: the search found it and only this thread links nodes.
            SetNextRelaxed(node, i, next[i]);
            SetNext(prev[i], i, node);
        }

        if (slot.Tag == tag)
        {
            // The splice of the position right after the new node, for this sequence's next insert.
            int newTop = Math.Max(top, height);
            for (int i = 0; i < newTop; i++)
            {
                slot.Prev[i] = i < height ? node : prev[i];
                slot.Next[i] = next[i];
            }
        }
    }

    /// <summary>First node with key &gt;= <paramref name="key"/>, or 0.</summary>
    public long Seek(ReadOnlySpan<byte> key) => FindGreaterOrEqual(key, default);

    /// <summary>Last node with key &lt; <paramref name="key"/>, or 0.</summary>
    public long FindLessThan(ReadOnlySpan<byte> key)
    {
        ulong prefix = Prefix(key);
        ulong prefix2 = Prefix2(key);
        long x = _head;
        int level = Volatile.Read(ref _maxHeight) - 1;
        while (true)
        {
            long next = GetNext(x, level);
            if (next != 0 && CompareNode(next, key, prefix, prefix2) < 0)
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

    /// <summary>Compares the node's key with <paramref name="key"/> (whose prefix words are <paramref name="keyPrefix"/> and <paramref name="keyPrefix2"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CompareNode(long node, ReadOnlySpan<byte> key, ulong keyPrefix, ulong keyPrefix2)
    {
        byte[] chunk = _arena.Chunk(node);
        ref byte header = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (int)node + 16);
        ulong nodePrefix = Unsafe.ReadUnaligned<ulong>(ref header);
        ulong nodePrefix2 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref header, 8));
        if (!BitConverter.IsLittleEndian)
        {
            nodePrefix = BinaryPrimitives.ReverseEndianness(nodePrefix);
            nodePrefix2 = BinaryPrimitives.ReverseEndianness(nodePrefix2);
        }

        if (nodePrefix != keyPrefix)
        {
            return nodePrefix < keyPrefix ? -1 : 1;
        }

        if (nodePrefix2 != keyPrefix2)
        {
            return nodePrefix2 < keyPrefix2 ? -1 : 1;
        }

        return CompareWithEqualPrefix(KeyOf(node), key);
    }

    /// <summary>
    /// <see cref="InternalKey.Compare"/> for two internal keys whose prefix words are equal: the rest of the user
    /// keys is compared 8 bytes at a time as big-endian integers before falling back to a byte compare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CompareWithEqualPrefix(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        ReadOnlySpan<byte> ua = a[..^InternalKey.TrailerSize];
        ReadOnlySpan<byte> ub = b[..^InternalKey.TrailerSize];
        int i = 0;
        if (ua.Length >= 8 && ub.Length >= 8)
        {
            // Equal prefix words of two keys of at least 8 (16) bytes mean equal first 8 (16) bytes.
            i = ua.Length >= 16 && ub.Length >= 16 ? 16 : 8;
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

    /// <summary>Bytes 8-15 of the user key of an internal key, big-endian, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Prefix2(ReadOnlySpan<byte> internalKey)
    {
        ReadOnlySpan<byte> user = internalKey[..^InternalKey.TrailerSize];
        if (user.Length >= 16)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(user[8..]);
        }

        ulong v = 0;
        for (int i = 8; i < user.Length; i++)
        {
            v |= (ulong)user[i] << (56 - (8 * (i - 8)));
        }

        return v;
    }

    /// <summary>
    /// Which key sequence a key belongs to, for choosing its splice: a hash of the user key without its last 8
    /// bytes when it has at least 16 (a fixed-width counter or index at the end: a log's entries, sequential
    /// numeric keys), else of the whole user key (a state row written again and again). A guess that costs
    /// nothing when wrong beyond one attempt now and then: a splice that keeps missing is skipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SequenceTag(ReadOnlySpan<byte> internalKey)
    {
        ReadOnlySpan<byte> user = internalKey[..^InternalKey.TrailerSize];
        ReadOnlySpan<byte> head = user.Length >= 16 ? user[..^8] : user;
        ulong h = (ulong)head.Length * 0x9E3779B97F4A7C15UL;
        while (head.Length >= 8)
        {
            h = BitOperations.RotateLeft((h ^ BinaryPrimitives.ReadUInt64LittleEndian(head)) * 0x9E3779B97F4A7C15UL, 29);
            head = head[8..];
        }

        ulong tail = 0;
        for (int i = 0; i < head.Length; i++)
        {
            tail |= (ulong)head[i] << (8 * i);
        }

        h = (h ^ tail) * 0xC2B2AE3D27D4EB4FUL;
        return h ^ (h >> 31);
    }

    /// <summary>
    /// The search from the head: fills <paramref name="prev"/> and <paramref name="next"/> for levels below
    /// <paramref name="top"/> with the key's exact predecessor and successor.
    /// </summary>
    private void FindSplice(ReadOnlySpan<byte> key, ulong prefix, ulong prefix2, int top, Span<long> prev, Span<long> next)
    {
        long x = _head;
        for (int level = top - 1; level >= 0; level--)
        {
            long n = GetNext(x, level);
            while (n != 0 && CompareNode(n, key, prefix, prefix2) < 0)
            {
                x = n;
                n = GetNext(x, level);
            }

            prev[level] = x;
            next[level] = n;
        }
    }

    /// <summary>
    /// Places the key from <paramref name="splice"/>: finds the lowest level the splice brackets the key at,
    /// walks to the exact predecessor there and at every level below (and at the levels the new node will
    /// occupy above it); higher levels keep the splice's bracket, which still encloses the key (see
    /// <see cref="InsertSplice"/>). Returns false, with nothing decided, when the splice is too far from the key.
    /// </summary>
    private bool TryFindFromSplice(InsertSplice splice, ReadOnlySpan<byte> key, ulong prefix, ulong prefix2, int top, int height, Span<long> prev, Span<long> next)
    {
        long[] sp = splice.Prev;
        long[] sn = splice.Next;
        int level = 0;
        int checks = 0;
        while (true)
        {
            if (level >= top || checks == MaxBracketChecks)
            {
                return false;
            }

            long p = sp[level];
            if (p != _head && CompareNode(p, key, prefix, prefix2) > 0)
            {
                // The key is before this level's predecessor: so are the levels that share it.
                checks++;
                do
                {
                    level++;
                }
                while (level < top && sp[level] == p);
                continue;
            }

            long n = sn[level];
            if (n != 0 && CompareNode(n, key, prefix, prefix2) < 0)
            {
                checks++;
                do
                {
                    level++;
                }
                while (level < top && sn[level] == n);
                continue;
            }

            if (p == _head)
            {
                // Bracketed only by the head: no better than a search from the head.
                return false;
            }

            break;
        }

        // Levels from `level` up bracket the key. Walk to the exact neighbours where the node will be linked,
        // and at `level` itself (the descent starts there); keep the bracket above.
        int budget = MaxSpliceWalk;
        int exactTop = Math.Max(level + 1, Math.Min(height, top));
        for (int i = exactTop - 1; i >= level; i--)
        {
            long x = sp[i];
            long stop = sn[i];
            long n = GetNext(x, i);
            while (n != stop && n != 0 && CompareNode(n, key, prefix, prefix2) < 0)
            {
                if (--budget < 0)
                {
                    return false;
                }

                x = n;
                n = GetNext(x, i);
            }

            prev[i] = x;
            next[i] = n;
        }

        for (int i = exactTop; i < top; i++)
        {
            prev[i] = sp[i];
            next[i] = sn[i];
        }

        long from = prev[level];
        for (int i = level - 1; i >= 0; i--)
        {
            long n = GetNext(from, i);
            while (n != 0 && CompareNode(n, key, prefix, prefix2) < 0)
            {
                if (--budget < 0)
                {
                    return false;
                }

                from = n;
                n = GetNext(from, i);
            }

            prev[i] = from;
            next[i] = n;
        }

        return true;
    }

    private long FindGreaterOrEqual(ReadOnlySpan<byte> key, Span<long> prev)
    {
        ulong prefix = Prefix(key);
        ulong prefix2 = Prefix2(key);
        long x = _head;
        int level = Volatile.Read(ref _maxHeight) - 1;
        while (true)
        {
            long next = GetNext(x, level);
            if (next != 0 && CompareNode(next, key, prefix, prefix2) < 0)
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
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], 0);
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
