namespace NoKv.Storage.Sstable;

/// <summary>Constants of the table file format (docs/format-sstable.md). All are on-disk facts: never change.</summary>
internal static class TableFormat
{
    /// <summary>Compression type byte + masked CRC32C (fixed32) after every block's contents.</summary>
    public const int BlockTrailerSize = 5;

    /// <summary>Bytes of the footer at the end of the file.</summary>
    public const int FooterSize = 64;

    /// <summary>Footer version of a table whose blocks are all stored as they are (compression type 0).</summary>
    public const uint FormatVersionPlain = 1;

    /// <summary>
    /// Footer version of a table whose data blocks may be compressed. Only such tables get it, so a table
    /// written without compression stays readable by builds that predate compression, and one with it is
    /// refused by them as an unsupported version rather than misread.
    /// </summary>
    public const uint FormatVersionCompressed = 2;

    /// <summary>ASCII "NoKvSSTb" stored little-endian as the footer's last 8 bytes.</summary>
    public const ulong Magic = 0x62545353764B6F4EUL;

    /// <summary>Layout byte at the end of a filter block: cache-line blocked bloom, version 1.</summary>
    public const byte FilterLayoutBlockedBloom = 1;
}
