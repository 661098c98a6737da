using NoKv.Storage.Iterators;

namespace NoKv.Storage.Memtable;

/// <summary>Iterates a memtable's point entries in internal-key order. Not thread-safe; lock-free against the writer.</summary>
internal sealed class MemTableIterator : IInternalIterator
{
    private readonly SkipList _list;
    private long _node;

    public MemTableIterator(SkipList list)
    {
        _list = list;
    }

    public bool Valid => _node != 0;

    public ReadOnlySpan<byte> Key => _list.KeyOf(_node);

    public ReadOnlySpan<byte> Value => _list.ValueOf(_node);

    public void SeekToFirst() => _node = _list.First();

    public void SeekToLast() => _node = _list.Last();

    public void Seek(ReadOnlySpan<byte> target) => _node = _list.Seek(target);

    public void Next() => _node = _list.Next(_node);

    public void Prev()
    {
        // No back links: search for the last node before this one (O(log n), as in LevelDB).
        _node = _list.FindLessThan(_list.KeyOf(_node));
    }

    public void Dispose()
    {
    }
}
