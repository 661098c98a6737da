using NoKv.Storage.Encoding;

namespace NoKv.Storage.Sstable;

/// <summary>
/// A block's verified contents, parsed just enough to iterate: the restart array location. Either owns a
/// GC array (a block read into memory, shareable and cacheable) or is a <em>view</em> of a memory-mapped
/// table (zero copy, never cached).
/// </summary>
/// <remarks>
/// Array blocks (<see cref="Parse"/>) are immutable while shared, and therefore safe to share between
/// threads and to keep in the block cache; a block cache node rebinds its block (<see cref="Rebind"/>) to a
/// recycled buffer only once no reader references it. <see cref="Data"/> may be longer than <see cref="Size"/> (it is
/// the buffer the block was read into, trailer included): only the first <see cref="Size"/> bytes are block
/// contents. Spans handed out over a block the cache holds stay valid while the reader holds its node
/// reference (see <see cref="Cache.BlockCacheNode"/>); after that the buffer may be recycled for another block.
/// <para>
/// Views (<see cref="CreateView"/>, <see cref="PointViewAt"/>) point into a table's mapping: they are owned
/// by one thread or one iterator and re-pointed at the next block it reads, so they never allocate. A span
/// over a view (and over anything read from it) is valid only while the table stays open (the caller holds
/// a table-cache reference) and the view is not re-pointed. Views are never put in the block cache.
/// </para>
/// </remarks>
internal sealed unsafe class Block
{
    // An empty block (no entries, one restart at 0) in native memory that is never freed, for fresh views.
    private static readonly byte* EmptyContents = CreateEmptyContents();

    private byte[]? _data;
    private byte* _pointer;

    private Block(byte[]? data, byte* pointer, int size, int restartsOffset, int numRestarts, string path, long fileOffset)
    {
        _data = data;
        _pointer = pointer;
        Size = size;
        RestartsOffset = restartsOffset;
        NumRestarts = numRestarts;
        Path = path;
        FileOffset = fileOffset;
    }

    /// <summary>The buffer of an array block; null for a view of a mapped table.</summary>
    public byte[]? Data => _data;

    /// <summary>Start of a view's contents in mapped memory; null for an array block.</summary>
    public byte* Pointer => _pointer;

    /// <summary>True for a view of mapped memory (never cached, re-pointed by its owner).</summary>
    public bool IsView => _data is null;

    /// <summary>Length of the block contents.</summary>
    public int Size { get; private set; }

    /// <summary>Offset of the restart array; entries occupy [0, RestartsOffset).</summary>
    public int RestartsOffset { get; private set; }

    public int NumRestarts { get; private set; }

    /// <summary>File the block came from, for error reports.</summary>
    public string Path { get; private set; }

    /// <summary>Offset of the block in <see cref="Path"/>, for error reports.</summary>
    public long FileOffset { get; private set; }

    /// <summary>The block contents (Size bytes); see the remarks for how long a view's span stays valid.</summary>
    public ReadOnlySpan<byte> Contents => _data is not null ? new ReadOnlySpan<byte>(_data, 0, Size) : new ReadOnlySpan<byte>(_pointer, Size);

    /// <summary>Memory the block holds, charged against the block cache bound.</summary>
    public int Charge => (_data?.Length ?? 0) + 64;

    /// <summary>
    /// Wraps the first <paramref name="size"/> bytes of <paramref name="data"/> as a block after checking its
    /// restart array is in bounds. Throws <see cref="CorruptionException"/> if not.
    /// </summary>
    public static Block Parse(byte[] data, int size, string path, long fileOffset)
    {
        if (size > data.Length)
        {
            throw new CorruptionException(path, fileOffset, $"block of {size} bytes is larger than its {data.Length}-byte buffer");
        }

        int restartsOffset = CheckRestarts(data.AsSpan(0, size), path, fileOffset, out int numRestarts);
        return new Block(data, null, size, restartsOffset, numRestarts, path, fileOffset);
    }

    /// <summary>
    /// Re-points an array block owned by a block cache node at new contents (the node's recycled buffer).
    /// Throws <see cref="CorruptionException"/> (leaving the block unchanged) if the restart array is out of
    /// bounds. REQUIRES: an array block that nobody else references (its node was rented, not shared).
    /// </summary>
    public void Rebind(byte[] data, int size, string path, long fileOffset)
    {
        if (_data is null || size > data.Length)
        {
            throw new InvalidOperationException("Only an array block can be rebound, to a buffer that holds it.");
        }

        int restartsOffset = CheckRestarts(data.AsSpan(0, size), path, fileOffset, out int numRestarts);
        _data = data;
        Size = size;
        RestartsOffset = restartsOffset;
        NumRestarts = numRestarts;
        Path = path;
        FileOffset = fileOffset;
    }

    /// <summary>A view that holds no block yet (positioned at an empty block); point it with <see cref="PointViewAt"/>.</summary>
    public static Block CreateView() => new(null, EmptyContents, 8, 4, 1, string.Empty, 0);

    /// <summary>
    /// Re-points this view at <paramref name="size"/> verified bytes of mapped memory at <paramref name="pointer"/>.
    /// Throws <see cref="CorruptionException"/> (leaving the view unchanged) if the restart array is out of bounds.
    /// REQUIRES: <see cref="IsView"/>; the memory stays mapped while the view is used.
    /// </summary>
    public void PointViewAt(byte* pointer, int size, string path, long fileOffset)
    {
        if (_data is not null)
        {
            throw new InvalidOperationException("Only a view block can be re-pointed.");
        }

        int restartsOffset = CheckRestarts(new ReadOnlySpan<byte>(pointer, size), path, fileOffset, out int numRestarts);
        _pointer = pointer;
        Size = size;
        RestartsOffset = restartsOffset;
        NumRestarts = numRestarts;
        Path = path;
        FileOffset = fileOffset;
    }

    /// <summary>Offset of restart point <paramref name="index"/>; REQUIRES: 0 &lt;= index &lt; NumRestarts.</summary>
    public int RestartPoint(int index)
    {
        uint offset = Fixed.Read32(Contents.Slice(RestartsOffset + (index * 4)));
        if (offset >= (uint)RestartsOffset && !(offset == 0 && RestartsOffset == 0))
        {
            throw Corrupt($"restart point {index} = {offset} is outside the entries");
        }

        return (int)offset;
    }

    /// <summary>
    /// The whole key stored at restart point <paramref name="index"/>, read in place (restart entries have no
    /// shared prefix). Throws <see cref="CorruptionException"/> if the entry does not decode.
    /// </summary>
    public ReadOnlySpan<byte> RestartKey(int index)
    {
        int offset = RestartPoint(index);
        ReadOnlySpan<byte> entries = Contents.Slice(0, RestartsOffset);
        int n1 = Varint.TryRead32(entries.Slice(offset), out uint shared);
        int n2 = Varint.TryRead32(entries.Slice(offset + n1), out uint nonShared);
        int n3 = Varint.TryRead32(entries.Slice(offset + n1 + n2), out uint valueLength);
        int p = offset + n1 + n2 + n3;
        if (n1 == 0 || n2 == 0 || n3 == 0 || shared != 0 || (ulong)nonShared + valueLength > (ulong)(RestartsOffset - p))
        {
            throw Corrupt($"restart entry at {offset} is malformed");
        }

        return entries.Slice(p, (int)nonShared);
    }

    public CorruptionException Corrupt(string message) => new(Path, FileOffset, message);

    private static int CheckRestarts(ReadOnlySpan<byte> contents, string path, long fileOffset, out int numRestarts)
    {
        int size = contents.Length;
        if (size < 4)
        {
            throw new CorruptionException(path, fileOffset, $"block of {size} bytes is too short for a restart count");
        }

        uint count = Fixed.Read32(contents.Slice(size - 4));
        long maxRestarts = (size - 4) / 4;
        if (count == 0 || count > maxRestarts)
        {
            throw new CorruptionException(path, fileOffset, $"block restart count {count} does not fit in {size} bytes");
        }

        numRestarts = (int)count;
        return size - 4 - ((int)count * 4);
    }

    private static byte* CreateEmptyContents()
    {
        var p = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(8);
        p[4] = 1;
        return p;
    }
}
