using K4os.Compression.LZ4;
using NoKv.Storage.Encoding;
using ZstdSharp;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Compresses a table's data blocks as they are written: <c>raw_size:varint32 || codec payload</c>
/// (docs/format-sstable.md). A block is stored compressed only if that saves at least an eighth of it, so
/// incompressible data costs a trial, never space or a decode on every read.
/// Thread safety: none; one per <see cref="TableBuilder"/>, which reuses its buffers across blocks.
/// </summary>
internal sealed class BlockCompressor : IDisposable
{
    private readonly CompressionType _type;
    private readonly Compressor? _zstd;
    private byte[] _buffer = [];

    public BlockCompressor(CompressionType type, int zstdLevel)
    {
        _type = type;
        if (type == CompressionType.Zstd)
        {
            _zstd = new Compressor(zstdLevel);
        }
        else if (type is not (CompressionType.None or CompressionType.Lz4))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "unknown compression type");
        }
    }

    /// <summary>
    /// Returns true with the stored form of <paramref name="contents"/> in <paramref name="stored"/> (valid until
    /// the next call) when compressing pays; false when the block should be stored as it is.
    /// </summary>
    public bool TryCompress(ReadOnlySpan<byte> contents, out ReadOnlySpan<byte> stored)
    {
        stored = default;
        if (_type == CompressionType.None || contents.Length < 64)
        {
            return false;
        }

        int header = Varint.Length32((uint)contents.Length);
        int bound = _type == CompressionType.Lz4 ? LZ4Codec.MaximumOutputSize(contents.Length) : Compressor.GetCompressBound(contents.Length);
        if (_buffer.Length < header + bound)
        {
            _buffer = new byte[header + bound];
        }

        Varint.Write32(_buffer, (uint)contents.Length);
        Span<byte> payload = _buffer.AsSpan(header);
        int written = _type == CompressionType.Lz4
            ? LZ4Codec.Encode(contents, payload, LZ4Level.L00_FAST)
            : _zstd!.Wrap(contents, payload);
        if (written <= 0 || header + written > contents.Length - (contents.Length >> 3))
        {
            return false;
        }

        stored = _buffer.AsSpan(0, header + written);
        return true;
    }

    public void Dispose() => _zstd?.Dispose();
}
