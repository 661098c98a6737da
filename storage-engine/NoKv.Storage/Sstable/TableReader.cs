using System.Buffers;
using NoKv.Storage.Cache;
using NoKv.Storage.Encoding;
using NoKv.Storage.Iterators;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Reads a table written by <see cref="TableBuilder"/> (format: docs/format-sstable.md). Open reads and
/// verifies the footer and, in one more read, the filter, properties and index blocks, which stay in memory
/// for the reader's lifetime. Data blocks are read on demand in one of two ways:
/// <list type="bullet">
/// <item>mapped (<see cref="TableOptions.UseMappedReads"/> and a file system that can map the file): the
/// block is sliced out of the mapping, its checksum verified and its restart array parsed in place into a
/// caller-owned view <see cref="Block"/>. No copy, no allocation, no block cache: the OS page cache holds
/// the hot pages, as RocksDB's allow_mmap_reads does;</item>
/// <item>otherwise one positional read each (contents and trailer together), verified, and shared through
/// the <see cref="BlockCache"/>.</item>
/// </list>
/// </summary>
/// <remarks>
/// Thread-safe: any number of threads may call <see cref="TryGet"/>, <see cref="NewIterator"/> and
/// <see cref="ApproximateOffsetOf"/> at once (each iterator is then used by one thread). Every byte that
/// fails its checksum or does not decode raises <see cref="CorruptionException"/> with this file's path and
/// the offset of the damaged block; nothing read from a damaged block is returned.
/// Disposing unmaps and closes the file; the owner (normally the table cache, through reference counts)
/// must ensure no call is in flight and nobody still uses a span read from a mapped block.
/// </remarks>
internal sealed unsafe class TableReader : IDisposable
{
    // Per-thread scratch iterators for TryGet, so point lookups do not allocate. TryGet never re-enters
    // itself on one thread, so one pair per thread suffices.
    [ThreadStatic]
    private static BlockIterator? t_indexIterator;

    [ThreadStatic]
    private static BlockIterator? t_dataIterator;

    // Per-thread view for TryGet's data block when the table is mapped; re-pointed by every mapped TryGet.
    [ThreadStatic]
    private static Block? t_dataView;

    // The block cache node the last TryGet on this thread returned a value from, held until the caller
    // releases it (ReleaseGetLease) or the next TryGet on the thread.
    [ThreadStatic]
    private static BlockCacheNode? t_getLease;

    private readonly IRandomAccessFile _file;
    private readonly FileMapping? _mapping;
    private readonly TableOptions _options;
    private readonly IKeyComparer _comparer;
    private readonly BlockCache? _cache;
    private readonly ulong _cacheId;
    private readonly Block _index;

    // The index block's buffer, rented from the shared pool and given back by Dispose (null once given back).
    private byte[]? _indexBuffer;
    private readonly FilterBlockReader? _filter;
    private readonly IndexKeyPrefixes? _indexPrefixes;

    // Data blocks all end before this offset (the first meta block).
    private readonly long _dataEnd;

    // Footer version 2: data blocks may be compressed. A version-1 table holding one is corrupt.
    private readonly bool _mayBeCompressed;

    private TableReader(
        IRandomAccessFile file,
        TableOptions options,
        BlockCache? cache,
        ulong cacheId,
        Block index,
        byte[] indexBuffer,
        FilterBlockReader? filter,
        TableProperties properties,
        long dataEnd,
        FileMapping? mapping,
        bool mayBeCompressed)
    {
        _mayBeCompressed = mayBeCompressed;
        _file = file;
        _mapping = mapping;
        _options = options;
        _comparer = options.Comparer;
        _cache = cache;
        _cacheId = cacheId;
        _index = index;
        _indexBuffer = indexBuffer;
        _filter = filter;
        Properties = properties;

        // Only valid for comparers that order by user key bytewise first (see IndexKeyPrefixes).
        if (_comparer is BytewiseComparer or InternalKeyComparer)
        {
            _indexPrefixes = IndexKeyPrefixes.Build(index, _comparer);
        }

        _dataEnd = dataEnd;
    }

    public string Path => _file.Path;

    public long FileNumber => (long)_cacheId;

    public long FileSize => _file.Length;

    public TableProperties Properties { get; }

    public IKeyComparer Comparer => _comparer;

    /// <summary>Whether data blocks are read from a mapping of the file (zero copy, no block cache).</summary>
    public bool IsMapped => _mapping is not null;

    /// <summary>Memory held for the reader's lifetime (index + filter), for accounting.</summary>
    public long MemoryBytes => _index.Charge + (_filter?.SizeBytes ?? 0) + (_indexPrefixes?.MemoryBytes ?? 0);

    /// <summary>
    /// Opens a table. Takes ownership of <paramref name="file"/>: it is disposed with the reader, or
    /// immediately if opening fails. <paramref name="fileNumber"/> must be unique among the tables sharing
    /// <paramref name="cache"/>; it keys their cached blocks.
    /// </summary>
    public static TableReader Open(IRandomAccessFile file, long fileNumber, TableOptions options, BlockCache? cache)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return OpenCore(file, fileNumber, options, cache);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static TableReader OpenCore(IRandomAccessFile file, long fileNumber, TableOptions options, BlockCache? cache)
    {
        string path = file.Path;
        long length = file.Length;
        if (length < TableFormat.FooterSize)
        {
            throw new CorruptionException(path, 0, $"file of {length} bytes is too short to be a table");
        }

        long footerOffset = length - TableFormat.FooterSize;
        Span<byte> footerBytes = stackalloc byte[TableFormat.FooterSize];
        ReadExactly(file, footerOffset, footerBytes);
        Footer footer = Footer.Decode(footerBytes, path, footerOffset);

        // The meta blocks are written back to back after the data: read them in one go.
        long metaStart = footer.Properties.Offset;
        if (footer.Filter.Size > 0)
        {
            metaStart = Math.Min(metaStart, footer.Filter.Offset);
        }

        metaStart = Math.Min(metaStart, footer.Index.Offset);
        long metaLength = footerOffset - metaStart;
        if (metaLength > int.MaxValue)
        {
            throw new CorruptionException(path, footerOffset, "meta blocks exceed 2 GiB");
        }

        // Read into a rented buffer: the meta blocks of a 64 MiB table are over half a MiB, so a fresh array per open
        // would be large-object garbage (reclaimed only by a full collection); the blocks kept are copied out.
        byte[] rented = ArrayPool<byte>.Shared.Rent((int)metaLength);
        FilterBlockReader? filter = null;
        TableProperties properties;
        Block index;
        byte[] indexBuffer;
        try
        {
            Span<byte> meta = rented.AsSpan(0, (int)metaLength);
            ReadExactly(file, metaStart, meta);

            if (footer.Filter.Size > 0)
            {
                filter = FilterBlockReader.Parse(
                    MetaBlock(meta, metaStart, footer.Filter, path),
                    path,
                    footer.Filter.Offset);
            }

            properties = TableProperties.Decode(
                MetaBlock(meta, metaStart, footer.Properties, path),
                path,
                footer.Properties.Offset);
            if (properties.ComparerName != options.Comparer.Name)
            {
                throw new CorruptionException(
                    path,
                    footer.Properties.Offset,
                    $"table was written with comparer '{properties.ComparerName}' but is read with '{options.Comparer.Name}'");
            }

            // The index is over half a MiB for a 64 MiB table, and a table lives only until a compaction replaces
            // it: a fresh array per table was large-object garbage once the table was deleted (reclaimed only by a
            // full collection, so dozens of dead indexes sat in memory during write-heavy runs). Rented instead and
            // given back when the reader closes, which the table cache does only after the last reader is done.
            ReadOnlySpan<byte> indexContents = MetaBlockSpan(meta, metaStart, footer.Index, path);
            indexBuffer = ArrayPool<byte>.Shared.Rent(indexContents.Length);
            indexContents.CopyTo(indexBuffer);
            index = Block.Parse(indexBuffer, indexContents.Length, path, footer.Index.Offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        // Mapped last, once nothing else can fail, so a failed open leaks no mapping.
        FileMapping? mapping = options.UseMappedReads ? file.TryMap() : null;
        return new TableReader(file, options, cache, (ulong)fileNumber, index, indexBuffer, filter, properties, metaStart, mapping, footer.Version == TableFormat.FormatVersionCompressed);
    }

    /// <summary>
    /// Point lookup. Finds the first entry whose key is &gt;= <paramref name="key"/> and returns true if its
    /// user key (<see cref="IKeyComparer.UserKey"/>) equals that of <paramref name="key"/>. For a table of
    /// internal keys, pass <c>userKey + trailer(snapshotSequence, kind=max)</c> to get the newest version
    /// visible at the snapshot; the caller reads its kind from <paramref name="foundKey"/>'s trailer.
    /// The bloom filter is consulted first, so most absent keys cost no I/O.
    /// </summary>
    /// <param name="foundKey">Valid until the next TryGet on the same thread: copy it to keep it.</param>
    /// <param name="value">
    /// Points into the block: valid only while the caller keeps the table open (its table-cache reference) and
    /// until the next TryGet or <see cref="ReleaseGetLease"/> on the same thread (a cached block's buffer is
    /// reused once released and evicted). Copy it before releasing the table.
    /// </param>
    /// <param name="fillCache">Whether a block read from the file is added to the block cache.</param>
    public bool TryGet(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value, bool fillCache = true) =>
        TryGet(key, out foundKey, out value, fillCache, out _);

    /// <summary>
    /// <see cref="TryGet(ReadOnlySpan{byte}, out ReadOnlySpan{byte}, out ReadOnlySpan{byte}, bool)"/>, also telling
    /// whether the filter ruled the key out (<paramref name="filtered"/>: no block was read). A miss that was not
    /// filtered read a data block for nothing, the cost read-triggered compaction weighs.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value, bool fillCache, out bool filtered)
    {
        foundKey = default;
        value = default;
        ReleaseGetLease();
        ReadOnlySpan<byte> userKey = _comparer.UserKey(key);
        filtered = _filter is not null && !_filter.MayContain(userKey);
        if (filtered)
        {
            return false;
        }

        BlockIterator index = t_indexIterator ??= new BlockIterator();
        BlockIterator data = t_dataIterator ??= new BlockIterator();
        Block? view = _mapping is null ? null : t_dataView ??= Block.CreateView();
        index.Reset(_index, _comparer);
        SeekIndex(index, key, userKey);
        while (index.Valid)
        {
            ReleaseGetLease();
            data.Reset(ReadDataBlock(index.Value, fillCache, out t_getLease, readahead: null, view), _comparer);
            data.Seek(key);
            if (data.Valid)
            {
                if (!_comparer.UserKey(data.Key).SequenceEqual(userKey))
                {
                    return false;
                }

                foundKey = data.Key;
                value = data.Value;
                return true;
            }

            // Only reachable when key sorts after the block's last key but not after its separator:
            // the answer, if any, is the first entry of the next block.
            index.Next();
        }

        return false;
    }

    /// <summary>
    /// Lets go of the block the last <see cref="TryGet"/> on this thread read its value from (a no-op if it held
    /// none): call once the value is copied, so an evicted block's buffer can be reused at once. TryGet also
    /// does this itself on entry.
    /// </summary>
    public static void ReleaseGetLease()
    {
        BlockCacheNode? lease = t_getLease;
        if (lease is not null)
        {
            t_getLease = null;
            lease.Release();
        }
    }

    /// <summary>True if the filter rules the user key out (no filter: false). For statistics and tests.</summary>
    public bool FilterExcludes(ReadOnlySpan<byte> userKey) => _filter is not null && !_filter.MayContain(userKey);

    /// <summary>A new iterator over all entries; the caller disposes it and must keep the reader open meanwhile.</summary>
    public IInternalIterator NewIterator(bool fillCache = true) => new TableIterator(this, fillCache);

    /// <summary>
    /// Approximate file offset where the data for <paramref name="key"/> begins: the offset of the data block
    /// that would hold it, or the end of the data for keys past the last block.
    /// </summary>
    public long ApproximateOffsetOf(ReadOnlySpan<byte> key)
    {
        var index = new BlockIterator(_index, _comparer);
        index.Seek(key);
        if (index.Valid && BlockHandle.TryDecode(index.Value, out BlockHandle handle) > 0)
        {
            return handle.Offset;
        }

        return _dataEnd;
    }

    internal Block IndexBlock => _index;

    /// <summary>Whether the table has a filter block (verified at open).</summary>
    internal bool HasFilter => _filter is not null;

    /// <summary>Whether index searches use <see cref="IndexKeyPrefixes"/> (for tests).</summary>
    internal bool HasIndexKeyPrefixes => _indexPrefixes is not null;

    /// <summary>Length of the user-key prefix shared by the index keys the search aid covers (for tests).</summary>
    internal int IndexCommonPrefixLength => _indexPrefixes?.CommonPrefixLength ?? 0;

    /// <summary>Positions <paramref name="index"/> (over this table's index block) at the first entry &gt;= key.</summary>
    internal void SeekIndex(BlockIterator index, ReadOnlySpan<byte> key, ReadOnlySpan<byte> userKey)
    {
        if (_indexPrefixes is not null)
        {
            int position = _indexPrefixes.FindFirstAtOrAfter(_index, _comparer, key, userKey);
            if (position >= 0)
            {
                index.SeekToRestart(position);
                return;
            }
        }

        index.Seek(key);
    }

    /// <summary>
    /// Returns the data block whose encoded handle is <paramref name="encodedHandle"/> (an index entry value).
    /// Mapped plain block: <paramref name="view"/> re-pointed at the block in the mapping (a new view if null),
    /// so the result lives only as long as the table is open and the view is not re-pointed. Otherwise a block in
    /// a block cache node (<paramref name="lease"/>, one reference the caller must release once it no longer uses
    /// the block), or, without a block cache, a fresh array block (<paramref name="lease"/> null). Thread-safe.
    /// </summary>
    internal Block ReadDataBlock(ReadOnlySpan<byte> encodedHandle, bool fillCache, out BlockCacheNode? lease, BlockReadahead? readahead = null, Block? view = null)
    {
        lease = null;
        if (BlockHandle.TryDecode(encodedHandle, out BlockHandle handle) == 0)
        {
            throw new CorruptionException(Path, _index.FileOffset, "index entry holds a malformed block handle");
        }

        // Written so nothing overflows (Size <= int.MaxValue, but Offset may be up to long.MaxValue): a mapped
        // read trusts these bounds, so a wrapped sum would become a pointer outside the mapping.
        if (handle.Offset < 0 || handle.Offset > _dataEnd - handle.Size - TableFormat.BlockTrailerSize)
        {
            throw new CorruptionException(Path, _index.FileOffset, $"index entry points outside the data: ({handle.Offset}, {handle.Size})");
        }

        if (_mapping is not null)
        {
            // Bounds checked above against _dataEnd, which lies inside the mapping (the whole file).
            int contentSize = (int)handle.Size;
            byte* start = _mapping.Pointer + handle.Offset;
            if (_mayBeCompressed && _cache is not null && _cache.TryGet(_cacheId, handle.Offset, out BlockCacheNode? decoded))
            {
                // A compressed block cannot be used in place: its decoded form lives in the block cache.
                lease = decoded;
                return decoded.Block;
            }

            Prefetch(start, contentSize + TableFormat.BlockTrailerSize);
            var stored = new ReadOnlySpan<byte>(start, contentSize + TableFormat.BlockTrailerSize);
            var type = CheckTrailer(stored, contentSize, Path, handle.Offset, _options.VerifyChecksums, _mayBeCompressed);
            if (type != CompressionType.None)
            {
                return Decode(type, stored.Slice(0, contentSize), handle.Offset, fillCache, out lease);
            }

            view ??= Block.CreateView();
            view.PointViewAt(start, contentSize, Path, handle.Offset);
            return view;
        }

        readahead?.Observe(handle.Offset, (int)handle.Size + TableFormat.BlockTrailerSize);
        int size = (int)handle.Size;
        int storedLength = size + TableFormat.BlockTrailerSize;
        if (_cache is null)
        {
            // One read for contents and trailer; the Block keeps this buffer (no second copy). Uninitialized:
            // every byte is overwritten by the read (a short read throws).
            byte[] buffer = GC.AllocateUninitializedArray<byte>(storedLength);
            ReadStored(handle.Offset, buffer, readahead);
            var blockType = CheckTrailer(buffer, size, Path, handle.Offset, _options.VerifyChecksums, _mayBeCompressed);
            return blockType != CompressionType.None
                ? Decode(blockType, buffer.AsSpan(0, size), handle.Offset, fillCache: false, out lease)
                : Block.Parse(buffer, size, Path, handle.Offset);
        }

        if (_cache.TryGet(_cacheId, handle.Offset, out BlockCacheNode? cached))
        {
            lease = cached;
            return cached.Block;
        }

        // Read into a (normally recycled) cache buffer: contents and trailer in one read, parsed in place.
        BlockCacheNode node = _cache.Rent(_cacheId, handle.Offset, storedLength);
        try
        {
            ReadStored(handle.Offset, node.Buffer.AsSpan(0, storedLength), readahead);
            var blockType = CheckTrailer(node.Buffer.AsSpan(0, storedLength), size, Path, handle.Offset, _options.VerifyChecksums, _mayBeCompressed);
            if (blockType != CompressionType.None)
            {
                return Decode(blockType, node.Buffer.AsSpan(0, size), handle.Offset, fillCache, out lease);
            }

            node.ParseBlock(size, Path, handle.Offset);
        }
        catch
        {
            node.Release();
            throw;
        }
        finally
        {
            if (lease is not null)
            {
                // Decoded into a node of its own: the raw one is done with.
                node.Release();
            }
        }

        if (fillCache)
        {
            _cache.Insert(_cacheId, handle.Offset, node);
        }

        lease = node;
        return node.Block;
    }

    private void ReadStored(long offset, Span<byte> destination, BlockReadahead? readahead)
    {
        if (readahead is null || !readahead.TryRead(_file, offset, destination.Length, _dataEnd, destination))
        {
            ReadExactly(_file, offset, destination);
        }
    }

    /// <summary>
    /// Decodes a verified compressed data block: into a block cache node that is cached if asked
    /// (<paramref name="lease"/>, the caller's reference), or without a cache into a new array block.
    /// </summary>
    private Block Decode(CompressionType type, ReadOnlySpan<byte> stored, long offset, bool fillCache, out BlockCacheNode? lease)
    {
        lease = null;
        int rawSize = BlockDecompressor.RawSize(stored, Path, offset);
        if (_cache is null)
        {
            byte[] raw = GC.AllocateUninitializedArray<byte>(rawSize);
            BlockDecompressor.DecompressInto(type, stored, raw, Path, offset);
            return Block.Parse(raw, raw.Length, Path, offset);
        }

        BlockCacheNode node = _cache.Rent(_cacheId, offset, rawSize);
        try
        {
            BlockDecompressor.DecompressInto(type, stored, node.Buffer.AsSpan(0, rawSize), Path, offset);
            node.ParseBlock(rawSize, Path, offset);
        }
        catch
        {
            node.Release();
            throw;
        }

        if (fillCache)
        {
            _cache.Insert(_cacheId, offset, node);
        }

        lease = node;
        return node.Block;
    }

    /// <summary>
    /// Starts fetching the mapped data block that <paramref name="encodedHandle"/> names, without verifying
    /// it (the read that follows checks the handle and the checksum). Does nothing for an unmapped table or a
    /// handle that does not decode or lies outside the data. Thread-safe.
    /// </summary>
    internal void PrefetchDataBlock(ReadOnlySpan<byte> encodedHandle)
    {
        if (_mapping is null || BlockHandle.TryDecode(encodedHandle, out BlockHandle handle) == 0
            || handle.Offset < 0 || handle.Offset > _dataEnd - handle.Size - TableFormat.BlockTrailerSize)
        {
            return;
        }

        Prefetch(_mapping.Pointer + handle.Offset, (int)handle.Size + TableFormat.BlockTrailerSize);
    }

    /// <summary>
    /// Asks for every cache line of a mapped block at once before the checksum walks it: the checksum reads
    /// three interleaved streams, which the hardware prefetcher follows poorly, so without this the block
    /// arrives from memory a few lines at a time. Prefetches never fault, so a range past the mapping is harmless.
    /// </summary>
    private static void Prefetch(byte* start, int length)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            return;
        }

        for (int i = 0; i < length; i += 64)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(start + i);
        }
    }

    /// <summary>
    /// Closes the file and its mapping and gives the index block's buffer back to the pool. REQUIRES: no reader,
    /// iterator or lookup uses this table any more (the table cache's reference count ensures it); afterwards the
    /// index buffer may hold another table's index.
    /// </summary>
    public void Dispose()
    {
        _mapping?.Dispose();
        _file.Dispose();
        byte[]? indexBuffer = Interlocked.Exchange(ref _indexBuffer, null);
        if (indexBuffer is not null)
        {
            ArrayPool<byte>.Shared.Return(indexBuffer);
        }
    }

    /// <summary>Verifies a meta block inside the meta region and returns a copy of its contents.</summary>
    private static byte[] MetaBlock(ReadOnlySpan<byte> meta, long metaStart, BlockHandle handle, string path) =>
        MetaBlockSpan(meta, metaStart, handle, path).ToArray();

    /// <summary>Verifies a meta block inside the meta region and returns its contents there.</summary>
    private static ReadOnlySpan<byte> MetaBlockSpan(ReadOnlySpan<byte> meta, long metaStart, BlockHandle handle, string path)
    {
        long start = handle.Offset - metaStart;
        if (start < 0 || start + handle.Size + TableFormat.BlockTrailerSize > meta.Length)
        {
            throw new CorruptionException(path, handle.Offset, $"meta block ({handle.Offset}, {handle.Size}) overlaps the data or the footer");
        }

        ReadOnlySpan<byte> withTrailer = meta.Slice((int)start, (int)handle.Size + TableFormat.BlockTrailerSize);
        CheckTrailer(withTrailer, (int)handle.Size, path, handle.Offset, verifyChecksum: true, allowCompressed: false);
        return withTrailer.Slice(0, (int)handle.Size);
    }

    /// <summary>
    /// Verifies a block's checksum (if asked) and returns its compression type. Meta blocks and every block of a
    /// version-1 table must be plain (<paramref name="allowCompressed"/> false); anything else is corruption.
    /// </summary>
    private static CompressionType CheckTrailer(ReadOnlySpan<byte> blockWithTrailer, int size, string path, long offset, bool verifyChecksum, bool allowCompressed)
    {
        byte type = blockWithTrailer[size];
        if (verifyChecksum)
        {
            uint expected = Crc32C.Unmask(Fixed.Read32(blockWithTrailer.Slice(size + 1)));
            uint actual = Crc32C.Compute(blockWithTrailer.Slice(0, size + 1));
            if (actual != expected)
            {
                throw new CorruptionException(path, offset, "block checksum mismatch");
            }
        }

        if (type == (byte)CompressionType.None)
        {
            return CompressionType.None;
        }

        if (!allowCompressed || type is not ((byte)CompressionType.Lz4 or (byte)CompressionType.Zstd))
        {
            throw new CorruptionException(path, offset, $"unknown block compression type {type}");
        }

        return (CompressionType)type;
    }

    private static void ReadExactly(IRandomAccessFile file, long offset, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = file.Read(offset + total, destination.Slice(total));
            if (n <= 0)
            {
                throw new CorruptionException(file.Path, offset, $"file ends after {total} of {destination.Length} bytes of a block");
            }

            total += n;
        }
    }
}
