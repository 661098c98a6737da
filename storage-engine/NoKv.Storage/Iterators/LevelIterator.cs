using NoKv.Storage.Cache;
using NoKv.Storage.Manifest;
using NoKv.Storage.Sstable;

namespace NoKv.Storage.Iterators;

/// <summary>
/// Iterates a sorted level (disjoint files ordered by key) as one sequence, opening one file at a time:
/// a seek costs one binary search over the file bounds plus one table seek. Not thread-safe.
/// </summary>
/// <remarks>
/// Holds a table-cache reference on the current file only (so it stays open, and mapped, while Key and
/// Value point into it) and re-targets one <see cref="TableIterator"/> from file to file, so random seeks
/// across the level allocate nothing once the iterator exists.
/// </remarks>
internal sealed class LevelIterator : IInternalIterator
{
    private readonly TableCache _tables;
    private FileMetaData[] _files;
    private readonly bool _fillCache;
    private int _index = -1;

    // Positioned on _files[_index] (holding _entry) when non-null; reused across files.
    private TableIterator? _current;
    private TableIterator? _spare;
    private TableCacheEntry? _entry;

    public LevelIterator(TableCache tables, FileMetaData[] files, bool fillCache)
    {
        _tables = tables;
        _files = WithEntries(files);
        _fillCache = fillCache;
    }

    public bool Valid => _current is { Valid: true };

    public ReadOnlySpan<byte> Key => _current!.Key;

    public ReadOnlySpan<byte> Value => _current!.Value;

    public void SeekToFirst()
    {
        Open(0);
        _current?.SeekToFirst();
        SkipEmptyForward();
    }

    public void SeekToLast()
    {
        Open(_files.Length - 1);
        _current?.SeekToLast();
        SkipEmptyBackward();
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        Open(Version.FindFile(_files, target));
        _current?.Seek(target);
        SkipEmptyForward();
    }

    /// <summary>See <see cref="TableIterator.PrepareSeek"/>: the same target must be sought next.</summary>
    public void PrepareSeek(ReadOnlySpan<byte> target)
    {
        Open(Version.FindFile(_files, target));
        _current?.PrepareSeek(target);
    }

    public void Next()
    {
        _current!.Next();
        SkipEmptyForward();
    }

    public void Prev()
    {
        _current!.Prev();
        SkipEmptyBackward();
    }

    public void Dispose()
    {
        Close();
        _spare?.Dispose();
        _spare = null;
    }

    /// <summary>Re-targets this iterator at another sorted run of files (left unpositioned), keeping its table iterator.</summary>
    public void Retarget(FileMetaData[] files)
    {
        Close();
        _index = -1;
        _files = WithEntries(files);
    }

    /// <summary>
    /// Leaves every table (references, block leases and the readahead buffer go back) and forgets the files, but keeps
    /// the objects for the next <see cref="Retarget"/>: what a pooled iterator does instead of <see cref="Dispose"/>.
    /// </summary>
    public void Park()
    {
        Close();
        _index = -1;
        _files = [];
        _spare?.Park();
    }

    private void SkipEmptyForward()
    {
        while (_current is not null && !_current.Valid)
        {
            Open(_index + 1);
            _current?.SeekToFirst();
        }
    }

    private void SkipEmptyBackward()
    {
        while (_current is not null && !_current.Valid)
        {
            Open(_index - 1);
            _current?.SeekToLast();
        }
    }

    private void Open(int index)
    {
        if (index == _index && _current is not null)
        {
            return;
        }

        Close();
        _index = index;
        if (index >= 0 && index < _files.Length)
        {
            TableCacheEntry entry = _tables.Acquire((long)_files[index].Number);

            // Owned from here on, so Close or Dispose releases it even if what follows throws.
            _entry = entry;
            if (_spare is null)
            {
                _spare = new TableIterator(entry.Reader, _fillCache);
            }
            else
            {
                _spare.Reset(entry.Reader);
            }

            _current = _spare;
        }
    }

    /// <summary>Leaves the current file: the iterator becomes the spare and the table reference is released.</summary>
    private void Close()
    {
        _current = null;
        TableCacheEntry? entry = _entry;
        _entry = null;
        entry?.Release();
    }

    /// <summary>Tombstone-only files have no table to read.</summary>
    private static FileMetaData[] WithEntries(FileMetaData[] files)
    {
        foreach (FileMetaData f in files)
        {
            if (f.EntryCount == 0)
            {
                return Array.FindAll(files, static x => x.EntryCount > 0);
            }
        }

        return files;
    }
}
