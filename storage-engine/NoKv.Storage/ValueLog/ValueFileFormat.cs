using NoKv.Storage.Encoding;

namespace NoKv.Storage.ValueLog;

/// <summary>
/// Layout constants of a value file (<c>NNNNNN.vlog</c>); the format is docs/format-value-file.md.
/// </summary>
/// <remarks>
/// <code>
/// header  := magic[8] = "NoKvVLOG"  version:fixed32 = 1  mask(crc32c(magic || version)):fixed32
/// record  := keyLength:varint32 valueLength:varint32 key value mask(crc32c(keyLength .. value)):fixed32
/// footer  := entries:fixed64 valueBytes:fixed64 reserved:fixed32 = 0 mask(crc32c(footer[0..20))):fixed32 magic[8]
/// </code>
/// A pointer names the value bytes of one record directly (offset of <c>value</c>, its length, its own masked
/// CRC-32C), so a point read is one positional read of the value; the record CRC serves sequential
/// verification. On-disk facts: never change them without a new version.
/// </remarks>
internal static class ValueFileFormat
{
    public const int HeaderSize = 16;
    public const int FooterSize = 32;
    public const uint Version = 1;

    public static ReadOnlySpan<byte> Magic => "NoKvVLOG"u8;

    public static void WriteHeader(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        Fixed.Write32(destination[8..], Version);
        Fixed.Write32(destination[12..], Crc32C.Mask(Crc32C.Compute(destination[..12])));
    }

    public static void WriteFooter(Span<byte> destination, long entries, long valueBytes)
    {
        Fixed.Write64(destination, (ulong)entries);
        Fixed.Write64(destination[8..], (ulong)valueBytes);
        Fixed.Write32(destination[16..], 0);
        Fixed.Write32(destination[20..], Crc32C.Mask(Crc32C.Compute(destination[..20])));
        Magic.CopyTo(destination[24..]);
    }

    /// <summary>The masked CRC-32C a pointer carries for <paramref name="value"/>.</summary>
    public static uint ValueChecksum(ReadOnlySpan<byte> value) => Crc32C.Mask(Crc32C.Compute(value));
}
