using NoKv.Storage.Encoding;

namespace NoKv.Storage.Sstable;

/// <summary>
/// A block's verified contents, parsed just enough to iterate: the restart array location. Immutable after
/// construction and therefore safe to share between threads and to keep in the block cache.
/// </summary>
/// <remarks>
/// <see cref="Data"/> may be longer than <see cref="Size"/> (it is the buffer the block was read into,
/// trailer included): only the first <see cref="Size"/> bytes are block contents. Spans handed out over
/// <see cref="Data"/> stay valid for as long as the caller holds them, because blocks are ordinary GC arrays
/// that are never pooled or reused; eviction from the cache only drops the cache's reference.
/// </remarks>
internal sealed class Block
{
    private Block(byte[] data, int size, int restartsOffset, int numRestarts, string path, long fileOffset)
    {
        Data = data;
        Size = size;
        RestartsOffset = restartsOffset;
        NumRestarts = numRestarts;
        Path = path;
        FileOffset = fileOffset;
    }

    public byte[] Data { get; }

    /// <summary>Length of the block contents at the start of <see cref="Data"/>.</summary>
    public int Size { get; }

    /// <summary>Offset of the restart array; entries occupy [0, RestartsOffset).</summary>
    public int RestartsOffset { get; }

    public int NumRestarts { get; }

    /// <summary>File the block came from, for error reports.</summary>
    public string Path { get; }

    /// <summary>Offset of the block in <see cref="Path"/>, for error reports.</summary>
    public long FileOffset { get; }

    /// <summary>Memory the block holds, charged against the block cache bound.</summary>
    public int Charge => Data.Length + 64;

    /// <summary>
    /// Wraps the first <paramref name="size"/> bytes of <paramref name="data"/> as a block after checking its
    /// restart array is in bounds. Throws <see cref="CorruptionException"/> if not.
    /// </summary>
    public static Block Parse(byte[] data, int size, string path, long fileOffset)
    {
        if (size < 4 || size > data.Length)
        {
            throw new CorruptionException(path, fileOffset, $"block of {size} bytes is too short for a restart count");
        }

        uint numRestarts = Fixed.Read32(data.AsSpan(size - 4));
        long maxRestarts = (size - 4) / 4;
        if (numRestarts == 0 || numRestarts > maxRestarts)
        {
            throw new CorruptionException(path, fileOffset, $"block restart count {numRestarts} does not fit in {size} bytes");
        }

        int restartsOffset = size - 4 - ((int)numRestarts * 4);
        return new Block(data, size, restartsOffset, (int)numRestarts, path, fileOffset);
    }

    /// <summary>Offset of restart point <paramref name="index"/>; REQUIRES: 0 &lt;= index &lt; NumRestarts.</summary>
    public int RestartPoint(int index)
    {
        uint offset = Fixed.Read32(Data.AsSpan(RestartsOffset + (index * 4)));
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
        ReadOnlySpan<byte> entries = Data.AsSpan(0, RestartsOffset);
        int n1 = Varint.TryRead32(entries.Slice(offset), out uint shared);
        int n2 = Varint.TryRead32(entries.Slice(offset + n1), out uint nonShared);
        int n3 = Varint.TryRead32(entries.Slice(offset + n1 + n2), out uint valueLength);
        int p = offset + n1 + n2 + n3;
        if (n1 == 0 || n2 == 0 || n3 == 0 || shared != 0 || (ulong)nonShared + valueLength > (ulong)(RestartsOffset - p))
        {
            throw Corrupt($"restart entry at {offset} is malformed");
        }

        return Data.AsSpan(p, (int)nonShared);
    }

    public CorruptionException Corrupt(string message) => new(Path, FileOffset, message);
}
