using NoKv.Storage.Encoding;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Where a block lives in a table file: <see cref="Offset"/> of its first byte and <see cref="Size"/> of its
/// contents, not counting the 5-byte trailer (compression type + masked CRC) that follows.
/// Encoded in index entries as varint64 offset, varint64 size (docs/format-sstable.md).
/// </summary>
internal readonly record struct BlockHandle(long Offset, long Size)
{
    /// <summary>Largest varint encoding of a handle.</summary>
    public const int MaxEncodedLength = 2 * Varint.MaxLength64;

    public int EncodeTo(Span<byte> destination)
    {
        int n = Varint.Write64(destination, (ulong)Offset);
        return n + Varint.Write64(destination.Slice(n), (ulong)Size);
    }

    /// <summary>Decodes a handle; returns bytes consumed, or 0 if malformed.</summary>
    public static int TryDecode(ReadOnlySpan<byte> source, out BlockHandle handle)
    {
        int n = Varint.TryRead64(source, out ulong offset);
        int m = Varint.TryRead64(source.Slice(n), out ulong size);
        if (n == 0 || m == 0 || offset > long.MaxValue || size > int.MaxValue)
        {
            handle = default;
            return 0;
        }

        handle = new BlockHandle((long)offset, (long)size);
        return n + m;
    }
}
