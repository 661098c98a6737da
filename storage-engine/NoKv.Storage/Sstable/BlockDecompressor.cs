using K4os.Compression.LZ4;
using NoKv.Storage.Encoding;
using ZstdSharp;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Restores a compressed data block (<c>raw_size:varint32 || codec payload</c>) into a new array. Runs after
/// the block's checksum passed, but still treats the bytes as untrusted: a payload that does not decode to
/// exactly <c>raw_size</c> bytes is corruption, reported as such, never returned as data. Thread-safe (one
/// Zstandard context per thread).
/// </summary>
internal static class BlockDecompressor
{
    /// <summary>Largest block a table may hold uncompressed: the block size limit plus one oversized entry.</summary>
    private const int MaxRawSize = 1 << 30;

    [ThreadStatic]
    private static Decompressor? t_zstd;

    public static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> stored, string path, long offset)
    {
        byte[] raw = GC.AllocateUninitializedArray<byte>(RawSize(stored, path, offset));
        DecompressInto(type, stored, raw, path, offset);
        return raw;
    }

    /// <summary>The decoded size a compressed block's header states; throws <see cref="CorruptionException"/> if malformed.</summary>
    public static int RawSize(ReadOnlySpan<byte> stored, string path, long offset)
    {
        int header = Varint.TryRead32(stored, out uint rawSize);
        if (header == 0 || rawSize > MaxRawSize)
        {
            throw new CorruptionException(path, offset, "compressed block has a malformed size header");
        }

        return (int)rawSize;
    }

    /// <summary>Decodes <paramref name="stored"/> into exactly <paramref name="raw"/> (its length is <see cref="RawSize"/>).</summary>
    public static void DecompressInto(CompressionType type, ReadOnlySpan<byte> stored, Span<byte> raw, string path, long offset)
    {
        int header = Varint.TryRead32(stored, out uint rawSize);
        if (header == 0 || rawSize != (uint)raw.Length)
        {
            throw new CorruptionException(path, offset, "compressed block has a malformed size header");
        }

        ReadOnlySpan<byte> payload = stored.Slice(header);
        int decoded;
        try
        {
            decoded = type switch
            {
                CompressionType.Lz4 => LZ4Codec.Decode(payload, raw),
                CompressionType.Zstd => (t_zstd ??= new Decompressor()).Unwrap(payload, raw),
                _ => throw new CorruptionException(path, offset, $"unknown block compression type {(byte)type}"),
            };
        }
        catch (ZstdException e)
        {
            throw new CorruptionException(path, offset, $"zstd block does not decode: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new CorruptionException(path, offset, $"{type} block does not decode: {e.Message}");
        }

        if (decoded != raw.Length)
        {
            throw new CorruptionException(path, offset, $"{type} block decodes to {decoded} bytes, header says {rawSize}");
        }
    }
}
