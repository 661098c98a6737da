using NoKv.Storage.Cache;
using NoKv.Storage.Manifest;

namespace NoKv.Storage.Iterators;

/// <summary>
/// Iterates one table file through the table cache, which pins the reader until disposed (so eviction or
/// deletion cannot close it underneath). The table is opened on first positioning. Not thread-safe.
/// </summary>
internal sealed class TableFileIterator : IInternalIterator
{
    private readonly TableCache _tables;
    private readonly FileMetaData _file;
    private readonly bool _fillCache;
    private PinnedTableIterator? _inner;

    public TableFileIterator(TableCache tables, FileMetaData file, bool fillCache)
    {
        _tables = tables;
        _file = file;
        _fillCache = fillCache;
    }

    public FileMetaData File => _file;

    public bool Valid => _inner is { Valid: true };

    public ReadOnlySpan<byte> Key => _inner!.Key;

    public ReadOnlySpan<byte> Value => _inner!.Value;

    public void SeekToFirst() => Inner().SeekToFirst();

    public void SeekToLast() => Inner().SeekToLast();

    public void Seek(ReadOnlySpan<byte> target) => Inner().Seek(target);

    /// <summary>See <see cref="TableIterator.PrepareSeek"/>: the same target must be sought next.</summary>
    public void PrepareSeek(ReadOnlySpan<byte> target) => Inner().PrepareSeek(target);

    public void Next() => _inner!.Next();

    public void Prev() => _inner!.Prev();

    public void Dispose()
    {
        _inner?.Dispose();
        _inner = null;
    }

    private PinnedTableIterator Inner()
    {
        _inner ??= _tables.NewIterator((long)_file.Number, _fillCache);

        return _inner;
    }
}
