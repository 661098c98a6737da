using NoKv.Storage.Db;
using NoKv.Storage.Manifest;

namespace NoKv.Storage.Iterators;

/// <summary>
/// Iterates one table file, holding a reference to its cached reader until disposed (so eviction or
/// deletion cannot close it underneath). The reader is opened on first positioning. Not thread-safe.
/// </summary>
internal sealed class TableFileIterator : IInternalIterator
{
    private readonly TableHandleCache _tables;
    private readonly FileMetaData _file;
    private readonly bool _fillCache;
    private TableHandle? _handle;
    private IInternalIterator? _inner;

    public TableFileIterator(TableHandleCache tables, FileMetaData file, bool fillCache)
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

    public void Next() => _inner!.Next();

    public void Prev() => _inner!.Prev();

    public void Dispose()
    {
        _inner?.Dispose();
        _inner = null;
        _handle?.Release();
        _handle = null;
    }

    private IInternalIterator Inner()
    {
        if (_inner is null)
        {
            _handle = _tables.Acquire(_file);
            _inner = _handle.Reader.NewIterator(_fillCache);
        }

        return _inner;
    }
}
