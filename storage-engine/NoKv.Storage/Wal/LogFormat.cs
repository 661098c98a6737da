namespace NoKv.Storage.Wal;

/// <summary>
/// Constants of the log framing shared by the write-ahead log and the manifest. See docs/format-wal.md.
/// </summary>
/// <remarks>
/// A log is a sequence of 32 KiB blocks; a block holds chunks, a chunk is a 7-byte header
/// <c>masked_crc32c:fixed32 length:fixed16 type:u8</c> followed by <c>length</c> payload bytes. The CRC covers
/// the type byte and the payload. A record is one Full chunk or First, Middle*, Last (types 1-4 for data
/// records, 5-8 for the WAL's meta records, see <see cref="LogChunkType"/>). A chunk never crosses a block
/// boundary; fewer than 7 bytes left in a block are zero-filled and skipped.
/// </remarks>
internal static class LogFormat
{
    public const int BlockSize = 32 * 1024;

    public const int HeaderSize = 7;
}
