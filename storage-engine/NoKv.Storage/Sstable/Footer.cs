using NoKv.Storage.Encoding;

namespace NoKv.Storage.Sstable;

/// <summary>
/// The fixed 64 bytes at the end of every table (docs/format-sstable.md):
/// <code>
/// 0   filter_offset:fixed64  filter_size:fixed64       (both 0 when the table has no filter)
/// 16  props_offset:fixed64   props_size:fixed64
/// 32  index_offset:fixed64   index_size:fixed64
/// 48  format_version:fixed32
/// 52  masked_crc32c:fixed32  of bytes [0, 52)
/// 56  magic:fixed64          "NoKvSSTb"
/// </code>
/// Sizes exclude the 5-byte block trailers. Fixed-width fields keep the footer a single known-size read.
/// </summary>
internal readonly record struct Footer(BlockHandle Filter, BlockHandle Properties, BlockHandle Index, uint Version = TableFormat.FormatVersionPlain)
{
    public void EncodeTo(Span<byte> destination)
    {
        Fixed.Write64(destination, (ulong)Filter.Offset);
        Fixed.Write64(destination.Slice(8), (ulong)Filter.Size);
        Fixed.Write64(destination.Slice(16), (ulong)Properties.Offset);
        Fixed.Write64(destination.Slice(24), (ulong)Properties.Size);
        Fixed.Write64(destination.Slice(32), (ulong)Index.Offset);
        Fixed.Write64(destination.Slice(40), (ulong)Index.Size);
        Fixed.Write32(destination.Slice(48), Version);
        Fixed.Write32(destination.Slice(52), Crc32C.Mask(Crc32C.Compute(destination.Slice(0, 52))));
        Fixed.Write64(destination.Slice(56), TableFormat.Magic);
    }

    /// <summary>
    /// Decodes and checks a footer read from <paramref name="footerOffset"/> of a file of
    /// <paramref name="fileLength"/> bytes: magic, checksum, version, and that every block lies before it.
    /// </summary>
    public static Footer Decode(ReadOnlySpan<byte> source, string path, long footerOffset)
    {
        if (Fixed.Read64(source.Slice(56)) != TableFormat.Magic)
        {
            throw new CorruptionException(path, footerOffset, "bad table magic number (not a NoKv table, or truncated)");
        }

        uint expected = Crc32C.Unmask(Fixed.Read32(source.Slice(52)));
        if (Crc32C.Compute(source.Slice(0, 52)) != expected)
        {
            throw new CorruptionException(path, footerOffset, "footer checksum mismatch");
        }

        uint version = Fixed.Read32(source.Slice(48));
        if (version is not (TableFormat.FormatVersionPlain or TableFormat.FormatVersionCompressed))
        {
            throw new CorruptionException(path, footerOffset, $"unsupported table format version {version}");
        }

        var footer = new Footer(
            ReadHandle(source, 0, path, footerOffset),
            ReadHandle(source, 16, path, footerOffset),
            ReadHandle(source, 32, path, footerOffset),
            version);
        return footer;
    }

    private static BlockHandle ReadHandle(ReadOnlySpan<byte> source, int at, string path, long footerOffset)
    {
        ulong offset = Fixed.Read64(source.Slice(at));
        ulong size = Fixed.Read64(source.Slice(at + 8));
        if (size > int.MaxValue - TableFormat.BlockTrailerSize
            || offset > (ulong)footerOffset
            || offset + size + TableFormat.BlockTrailerSize > (ulong)footerOffset)
        {
            if (size == 0 && offset == 0)
            {
                return default;
            }

            throw new CorruptionException(path, footerOffset, $"footer block handle ({offset}, {size}) lies outside the file");
        }

        return new BlockHandle((long)offset, (long)size);
    }
}
