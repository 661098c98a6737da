using NoKv.Storage.Cache;
using NoKv.Storage.Iterators;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Two-level iterator over a table: an iterator over the index block picks the data block, and a block
/// iterator walks it. Moving past either end of a data block loads the neighbouring one (skipping empty
/// blocks), so the caller sees one sorted sequence.
/// </summary>
/// <remarks>
/// Not thread-safe. Holds at most one data block at a time (plus the reader's index); a block from the block
/// cache stays referenced while the iterator is in it, so values read from it stay valid until the next move. The reader must stay
/// open while the iterator is used (the table cache guarantees this with a reference it releases on Dispose).
/// </remarks>
internal sealed class TableIterator : IInternalIterator
{
    private TableReader _table;
    private readonly bool _fillCache;
    private readonly BlockIterator _index;
    private readonly BlockIterator _data = new();
    private readonly BlockReadahead _readahead = new();

    // Re-pointed at each block of a mapped table (unused otherwise); _data only ever holds this or a shared block.
    private readonly Block _view = Block.CreateView();
    private bool _dataValid;

    // The block cache node _data reads from (null for a mapped view or an uncached block), one reference held
    // until the iterator moves to another block, is re-targeted or disposed.
    private BlockCacheNode? _lease;

    // Set by PrepareSeek: _index is already positioned for the Seek that must follow, and until then the
    // iterator is not positioned (Valid is false, so Next and Prev refuse).
    private bool _prepared;

    // Offset of the block _data holds, to avoid reloading it when a seek lands in the same block.
    private long _dataBlockOffset = -1;

    public TableIterator(TableReader table, bool fillCache)
    {
        _table = table;
        _fillCache = fillCache;
        _index = new BlockIterator(table.IndexBlock, table.Comparer);
    }

    public bool Valid => _dataValid && !_prepared && _data.Valid;

    /// <summary>
    /// Re-targets this iterator at another table (left unpositioned), reusing its buffers, so a level
    /// iterator moving between files allocates nothing. The same rules apply: <paramref name="table"/> must
    /// stay open while the iterator uses it.
    /// </summary>
    public void Reset(TableReader table)
    {
        _table = table;
        _index.Reset(table.IndexBlock, table.Comparer);
        _dataValid = false;
        ReleaseLease();
        _prepared = false;
        _dataBlockOffset = -1;
        _readahead.Reset();
    }

    /// <summary>
    /// Gives back what the iterator holds (its block lease and readahead buffer) and leaves it unpositioned; only
    /// <see cref="Reset"/> makes it usable again. Its table reader must not be used after this.
    /// </summary>
    public void Park()
    {
        _dataValid = false;
        _prepared = false;
        _dataBlockOffset = -1;
        ReleaseLease();
        _readahead.Dispose();
        _readahead.Reset();
    }

    public ReadOnlySpan<byte> Key => _data.Key;

    public ReadOnlySpan<byte> Value => _data.Value;

    public void SeekToFirst()
    {
        _prepared = false;
        try
        {
            _index.SeekToFirst();
            if (LoadDataBlock())
            {
                _data.SeekToFirst();
            }

            SkipEmptyBlocksForward();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            _dataValid = false;
            throw;
        }
    }

    public void SeekToLast()
    {
        _prepared = false;
        try
        {
            _index.SeekToLast();
            if (LoadDataBlock())
            {
                _data.SeekToLast();
            }

            SkipEmptyBlocksBackward();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            _dataValid = false;
            throw;
        }
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        try
        {
            bool prepared = _prepared;
            _prepared = false;
            if (!prepared)
            {
                _table.SeekIndex(_index, target, _table.Comparer.UserKey(target));
            }

            if (LoadDataBlock())
            {
                _data.Seek(target);
            }

            SkipEmptyBlocksForward();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            _dataValid = false;
            throw;
        }
    }

    /// <summary>
    /// First half of a seek: positions the index for <paramref name="target"/> and starts fetching that data
    /// block, so a merging iterator can overlap one child's memory fetch with another child's checksum.
    /// REQUIRES: the next call is <see cref="Seek"/> with the same target, or a move that repositions
    /// (SeekToFirst, SeekToLast, Reset); until then the iterator is not positioned.
    /// </summary>
    public void PrepareSeek(ReadOnlySpan<byte> target)
    {
        _prepared = false;
        try
        {
            _table.SeekIndex(_index, target, _table.Comparer.UserKey(target));
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            _dataValid = false;
            throw;
        }

        _prepared = true;
        if (_index.Valid)
        {
            _table.PrefetchDataBlock(_index.Value);
        }
    }

    public void Next()
    {
        try
        {
            ThrowIfNotValid();
            _data.Next();
            SkipEmptyBlocksForward();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            _dataValid = false;
            throw;
        }
    }

    public void Prev()
    {
        try
        {
            ThrowIfNotValid();
            _data.Prev();
            SkipEmptyBlocksBackward();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            _dataValid = false;
            throw;
        }
    }

    /// <summary>File reads issued by readahead so far (for tests).</summary>
    internal int ReadaheadFileReads => _readahead.FileReads;

    public void Dispose()
    {
        _dataValid = false;
        ReleaseLease();
        _readahead.Dispose();
    }

    private void ReleaseLease()
    {
        BlockCacheNode? lease = _lease;
        if (lease is not null)
        {
            _lease = null;
            lease.Release();
        }
    }

    /// <summary>Points _data at the block of the current index entry; false if the index is exhausted.</summary>
    private bool LoadDataBlock()
    {
        if (!_index.Valid)
        {
            _dataValid = false;
            return false;
        }

        ReadOnlySpan<byte> encodedHandle = _index.Value;
        if (_dataValid && BlockHandle.TryDecode(encodedHandle, out BlockHandle handle) > 0 && handle.Offset == _dataBlockOffset)
        {
            // Same block as before (a seek that lands where we already are): no cache lookup.
            return true;
        }

        // Invalid until the new block is in place, so a read that throws leaves no stale position behind.
        _dataValid = false;
        Block block = _table.ReadDataBlock(encodedHandle, _fillCache, out BlockCacheNode? lease, _readahead, _view);
        _data.Reset(block, _table.Comparer);
        ReleaseLease();
        _lease = lease;
        _dataBlockOffset = block.FileOffset;
        _dataValid = true;
        return true;
    }

    private void SkipEmptyBlocksForward()
    {
        while (!_dataValid || !_data.Valid)
        {
            if (!_index.Valid)
            {
                _dataValid = false;
                return;
            }

            _index.Next();
            if (!LoadDataBlock())
            {
                return;
            }

            _data.SeekToFirst();
        }
    }

    private void SkipEmptyBlocksBackward()
    {
        while (!_dataValid || !_data.Valid)
        {
            if (!_index.Valid)
            {
                _dataValid = false;
                return;
            }

            _index.Prev();
            if (!LoadDataBlock())
            {
                return;
            }

            _data.SeekToLast();
        }
    }

    private void ThrowIfNotValid()
    {
        if (!Valid)
        {
            throw new InvalidOperationException("Iterator is not positioned at an entry.");
        }
    }
}
