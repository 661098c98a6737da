using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Writes a sorted run of key/value entries as a table file. The format is specified, byte by byte, in
/// docs/format-sstable.md; in short:
/// <code>
/// table   := data_block* filter_block? properties_block index_block footer
/// block   := contents compression_type:u8 masked_crc32c:fixed32   (crc over stored contents + type byte;
///            a compressed data block's contents are raw_size:varint32 || codec payload)
/// </code>
/// Data blocks hold the entries (<see cref="BlockBuilder"/>); the filter block is one bloom filter over
/// the table's user keys (<see cref="BloomFilterPolicy"/>); the index block maps, for each data block, a
/// separator key (&gt;= every key in the block, &lt; every key in the next) to its <see cref="BlockHandle"/>;
/// the <see cref="Footer"/> locates the filter, properties and index blocks.
/// </summary>
/// <remarks>
/// REQUIRES: keys added in strictly increasing order under <see cref="TableOptions.Comparer"/> (checked:
/// <see cref="ArgumentException"/>). Not thread-safe. The builder does not sync or dispose the file: after
/// <see cref="Finish"/> the caller syncs it (durability is the caller's decision) and disposes it; after
/// <see cref="Abandon"/> the caller deletes it.
/// </remarks>
internal sealed class TableBuilder
{
    private readonly IWritableFile _file;
    private readonly TableOptions _options;
    private readonly IKeyComparer _comparer;
    private readonly BlockBuilder _dataBlock;
    // Pooled: about 0.5 MiB for a 64 MiB table, which would be large-object garbage after every table.
    private readonly BlockBuilder _indexBlock = new(1, pooled: true);
    private readonly FilterBlockBuilder? _filter;
    private readonly ByteBuffer _lastKey = new(64);
    private readonly byte[] _trailer = new byte[TableFormat.BlockTrailerSize];
    private readonly long _startOffset;
    private byte[]? _smallestKey;
    private BlockHandle _pendingHandle;
    private bool _pendingIndexEntry;
    private long _entries;
    private long _dataBlocks;
    private long _rawKeySize;
    private long _rawValueSize;
    private bool _closed;
    private readonly BlockCompressor? _compressor;
    private long _compressedBlocks;

    public TableBuilder(IWritableFile file, TableOptions options)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _file = file;
        _options = options;
        _comparer = options.Comparer;
        _dataBlock = new BlockBuilder(options.BlockRestartInterval);
        if (options.BloomBitsPerKey > 0)
        {
            _filter = new FilterBlockBuilder(new BloomFilterPolicy(options.BloomBitsPerKey));
        }

        _startOffset = file.Length;
        if (_startOffset != 0)
        {
            throw new ArgumentException("A table must be written to an empty file.", nameof(file));
        }

        if (options.Compression != CompressionType.None)
        {
            _compressor = new BlockCompressor(options.Compression, options.ZstdLevel);
        }
    }

    public long Entries => _entries;

    /// <summary>Bytes written to the file so far (a lower bound of the final size).</summary>
    public long FileSize => _file.Length;

    /// <summary>Size the file would have if finished now, roughly: written bytes plus the open data block.</summary>
    public long EstimatedFileSize => _file.Length + _dataBlock.CurrentSizeEstimate;

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ThrowIfClosed();
        if (_entries > 0 && _comparer.Compare(key, _lastKey.WrittenSpan) <= 0)
        {
            throw new ArgumentException("Keys must be added in strictly increasing order.", nameof(key));
        }

        if (_pendingIndexEntry)
        {
            // The previous data block's index entry waits for this key so its separator can be short.
            AddIndexEntry(_comparer.FindShortestSeparator(_lastKey.WrittenSpan, key));
        }

        _smallestKey ??= key.ToArray();
        _filter?.AddKey(_comparer.UserKey(key));
        _lastKey.Clear();
        _lastKey.Append(key);
        _entries++;
        _rawKeySize += key.Length;
        _rawValueSize += value.Length;
        _dataBlock.Add(key, value);

        if (_dataBlock.CurrentSizeEstimate >= _options.BlockSizeBytes)
        {
            FlushDataBlock();
        }
    }

    /// <summary>Writes the remaining blocks and the footer. Returns the table's properties.</summary>
    public TableProperties Finish()
    {
        ThrowIfClosed();
        FlushDataBlock();
        long dataSize = _file.Length - _startOffset;

        BlockHandle filterHandle = default;
        long filterSize = 0;
        if (_filter is not null)
        {
            filterHandle = WriteBlock(_filter.Finish());
            filterSize = filterHandle.Size + TableFormat.BlockTrailerSize;
        }

        var properties = new TableProperties
        {
            Entries = _entries,
            DataBlocks = _dataBlocks,
            DataSize = dataSize,
            FilterSize = filterSize,
            RawKeySize = _rawKeySize,
            RawValueSize = _rawValueSize,
            BloomBitsPerKey = _filter is null ? 0 : _options.BloomBitsPerKey,
            ComparerName = _comparer.Name,
            SmallestKey = _smallestKey ?? [],
            LargestKey = _entries == 0 ? [] : _lastKey.WrittenSpan.ToArray(),
        };
        var propertiesBuffer = new ByteBuffer(256);
        properties.EncodeTo(propertiesBuffer);
        BlockHandle propertiesHandle = WriteBlock(propertiesBuffer.WrittenSpan);

        if (_pendingIndexEntry)
        {
            AddIndexEntry(_comparer.FindShortSuccessor(_lastKey.WrittenSpan));
        }

        BlockHandle indexHandle = WriteBlock(_indexBlock.Finish());

        Span<byte> footer = stackalloc byte[TableFormat.FooterSize];
        uint version = _compressedBlocks > 0 ? TableFormat.FormatVersionCompressed : TableFormat.FormatVersionPlain;
        new Footer(filterHandle, propertiesHandle, indexHandle, version).EncodeTo(footer);
        _file.Append(footer);
        Close();

        return new TableProperties
        {
            Entries = properties.Entries,
            DataBlocks = properties.DataBlocks,
            DataSize = properties.DataSize,
            IndexSize = indexHandle.Size + TableFormat.BlockTrailerSize,
            FilterSize = properties.FilterSize,
            RawKeySize = properties.RawKeySize,
            RawValueSize = properties.RawValueSize,
            FileSize = _file.Length,
            BloomBitsPerKey = properties.BloomBitsPerKey,
            ComparerName = properties.ComparerName,
            SmallestKey = properties.SmallestKey,
            LargestKey = properties.LargestKey,
        };
    }

    /// <summary>Stops building; nothing more is written. The caller deletes the partial file.</summary>
    public void Abandon() => Close();

    /// <summary>Data blocks stored compressed so far (the others were stored plain because compressing did not pay).</summary>
    public long CompressedBlocks => _compressedBlocks;

    private void Close()
    {
        _closed = true;
        _compressor?.Dispose();
        _indexBlock.Release();
        _filter?.Release();
    }

    private void FlushDataBlock()
    {
        if (_dataBlock.IsEmpty)
        {
            return;
        }

        ReadOnlySpan<byte> contents = _dataBlock.Finish();
        if (_compressor is not null && _compressor.TryCompress(contents, out ReadOnlySpan<byte> stored))
        {
            _pendingHandle = WriteBlock(stored, _options.Compression);
            _compressedBlocks++;
        }
        else
        {
            _pendingHandle = WriteBlock(contents);
        }

        _dataBlock.Reset();
        _pendingIndexEntry = true;
        _dataBlocks++;
    }

    private void AddIndexEntry(ReadOnlySpan<byte> separator)
    {
        Span<byte> encoded = stackalloc byte[BlockHandle.MaxEncodedLength];
        int length = _pendingHandle.EncodeTo(encoded);
        _indexBlock.Add(separator, encoded.Slice(0, length));
        _pendingIndexEntry = false;
    }

    /// <summary>Appends contents plus trailer; returns the handle (size excludes the trailer).</summary>
    private BlockHandle WriteBlock(ReadOnlySpan<byte> contents, CompressionType type = CompressionType.None)
    {
        var handle = new BlockHandle(_file.Length, contents.Length);
        _trailer[0] = (byte)type;
        uint crc = Crc32C.Extend(Crc32C.Compute(contents), _trailer.AsSpan(0, 1));
        Fixed.Write32(_trailer.AsSpan(1), Crc32C.Mask(crc));
        _file.Append(contents);
        _file.Append(_trailer);
        return handle;
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new InvalidOperationException("The table builder was already finished or abandoned.");
        }
    }
}
