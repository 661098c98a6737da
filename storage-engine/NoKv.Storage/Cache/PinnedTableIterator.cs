using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// A table iterator that keeps its table open: it holds a <see cref="TableCacheEntry"/> reference and
/// releases it on Dispose (once, however often Dispose is called). Not thread-safe, like every iterator.
/// </summary>
internal sealed class PinnedTableIterator : IInternalIterator
{
    // Concrete (sealed) type so calls are direct and inlinable, not interface dispatches.
    private readonly TableIterator _inner;
    private TableCacheEntry? _entry;

    public PinnedTableIterator(TableCacheEntry entry, bool fillCache)
    {
        _entry = entry;
        _inner = new TableIterator(entry.Reader, fillCache);
    }

    public bool Valid => _entry is not null && _inner.Valid;

    public ReadOnlySpan<byte> Key => _inner.Key;

    public ReadOnlySpan<byte> Value => _inner.Value;

    public void SeekToFirst()
    {
        ThrowIfDisposed();
        _inner.SeekToFirst();
    }

    public void SeekToLast()
    {
        ThrowIfDisposed();
        _inner.SeekToLast();
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        ThrowIfDisposed();
        _inner.Seek(target);
    }

    /// <summary>See <see cref="TableIterator.PrepareSeek"/>: the same target must be sought next.</summary>
    public void PrepareSeek(ReadOnlySpan<byte> target)
    {
        ThrowIfDisposed();
        _inner.PrepareSeek(target);
    }

    public void Next() => _inner.Next();

    public void Prev() => _inner.Prev();

    public void Dispose()
    {
        TableCacheEntry? entry = Interlocked.Exchange(ref _entry, null);
        if (entry is not null)
        {
            _inner.Dispose();
            entry.Release();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_entry is null, this);
}
