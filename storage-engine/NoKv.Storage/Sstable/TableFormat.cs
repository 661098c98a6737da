namespace NoKv.Storage.Sstable;

/// <summary>Constants of the table file format (docs/format-sstable.md). All are on-disk facts: never change.</summary>
internal static class TableFormat
{
    /// <summary>Compression type byte + masked CRC32C (fixed32) after every block's contents.</summary>
    public const int BlockTrailerSize = 5;

    /// <summary>Bytes of the footer at the end of the file.</summary>
    public const int FooterSize = 64;

    /// <summary>The only format version written and read.</summary>
    public const uint FormatVersion = 1;

    /// <summary>ASCII "NoKvSSTb" stored little-endian as the footer's last 8 bytes.</summary>
    public const ulong Magic = 0x62545353764B6F4EUL;

    /// <summary>Layout byte at the end of a filter block: cache-line blocked bloom, version 1.</summary>
    public const byte FilterLayoutBlockedBloom = 1;
}
