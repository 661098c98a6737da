using System.Runtime.CompilerServices;
using NoKv.Storage.Memtable;

namespace NoKv.Storage.Iterators;

/// <summary>
/// Merges sorted child iterators (internal-key order) into one, with a binary heap of the valid children:
/// a min-heap when moving forward, a max-heap when moving backward. Children must not hold equal keys
/// (sequence numbers make internal keys unique). Not thread-safe. Owns and disposes its children.
/// </summary>
internal sealed class MergingIterator : IInternalIterator
{
    private IInternalIterator[] _children;
    private int[] _heap;
    private int _heapSize;
    private bool _forward = true;

    public MergingIterator(IInternalIterator[] children)
    {
        _children = children;
        _heap = new int[children.Length];
    }

    /// <summary>
    /// Re-targets this iterator at other children (left unpositioned), reusing its heap when it is large enough, so a
    /// pooled iterator (<see cref="IteratorParts"/>) allocates nothing. The old children are not disposed.
    /// </summary>
    public void Reset(IInternalIterator[] children)
    {
        _children = children;
        if (_heap.Length < children.Length)
        {
            _heap = new int[children.Length];
        }

        _heapSize = 0;
        _forward = true;
    }

    public bool Valid => _heapSize > 0;

    public ReadOnlySpan<byte> Key => KeyOf(_children[_heap[0]]);

    public ReadOnlySpan<byte> Value => _children[_heap[0]].Value;

    public void SeekToFirst()
    {
        foreach (IInternalIterator c in _children)
        {
            c.SeekToFirst();
        }

        Rebuild(forward: true);
    }

    public void SeekToLast()
    {
        foreach (IInternalIterator c in _children)
        {
            c.SeekToLast();
        }

        Rebuild(forward: false);
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        // Pipelined: each table child's data block is requested (index search plus prefetch) before the
        // previous child verifies and searches its own, so memory fetches overlap checksum work.
        IInternalIterator[] children = _children;
        if (children.Length > 0)
        {
            PrepareSeekOf(children[0], target);
        }

        for (int i = 0; i < children.Length; i++)
        {
            if (i + 1 < children.Length)
            {
                PrepareSeekOf(children[i + 1], target);
            }

            children[i].Seek(target);
        }

        Rebuild(forward: true);
    }

    public void Next()
    {
        if (!_forward)
        {
            // Every other child must move to its first entry after the current key.
            byte[] key = Key.ToArray();
            int current = _heap[0];
            for (int i = 0; i < _children.Length; i++)
            {
                if (i == current)
                {
                    continue;
                }

                IInternalIterator c = _children[i];
                c.Seek(key);
                if (c.Valid && InternalKey.Compare(c.Key, key) == 0)
                {
                    c.Next();
                }
            }

            Rebuild(forward: true);
        }

        IInternalIterator top = _children[_heap[0]];
        NextOf(top);
        if (ValidOf(top))
        {
            SiftDown(0);
        }
        else
        {
            RemoveTop();
        }
    }

    public void Prev()
    {
        if (_forward)
        {
            // Every other child must move to its last entry before the current key.
            byte[] key = Key.ToArray();
            int current = _heap[0];
            for (int i = 0; i < _children.Length; i++)
            {
                if (i == current)
                {
                    continue;
                }

                IInternalIterator c = _children[i];
                c.Seek(key);
                if (c.Valid)
                {
                    c.Prev();
                }
                else
                {
                    c.SeekToLast();
                }
            }

            Rebuild(forward: false);
        }

        int top = _heap[0];
        _children[top].Prev();
        if (_children[top].Valid)
        {
            SiftDown(0);
        }
        else
        {
            RemoveTop();
        }
    }

    public void Dispose()
    {
        foreach (IInternalIterator c in _children)
        {
            c.Dispose();
        }
    }

    private void Rebuild(bool forward)
    {
        _forward = forward;
        _heapSize = 0;
        for (int i = 0; i < _children.Length; i++)
        {
            if (ValidOf(_children[i]))
            {
                _heap[_heapSize++] = i;
            }
        }

        for (int i = (_heapSize / 2) - 1; i >= 0; i--)
        {
            SiftDown(i);
        }
    }

    private void RemoveTop()
    {
        _heapSize--;
        if (_heapSize > 0)
        {
            _heap[0] = _heap[_heapSize];
            SiftDown(0);
        }
    }

    /// <summary>True when child a should be above child b in the heap.</summary>
    private bool Before(int a, int b)
    {
        int c = InternalKey.Compare(KeyOf(_children[a]), KeyOf(_children[b]));
        return _forward ? c < 0 : c > 0;
    }

    private void SiftDown(int i)
    {
        int[] heap = _heap;
        int n = _heapSize;
        int item = heap[i];
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && Before(heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!Before(heap[child], item))
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = item;
    }

    // The database's children are these sealed types: a type test (one compare of the method table) lets
    // the JIT call, and inline, them directly instead of dispatching through the interface on every step.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> KeyOf(IInternalIterator c)
    {
        if (c is LevelIterator level)
        {
            return level.Key;
        }

        if (c is TableFileIterator file)
        {
            return file.Key;
        }

        if (c is MemTableIterator mem)
        {
            return mem.Key;
        }

        return c.Key;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ValidOf(IInternalIterator c)
    {
        if (c is LevelIterator level)
        {
            return level.Valid;
        }

        if (c is TableFileIterator file)
        {
            return file.Valid;
        }

        if (c is MemTableIterator mem)
        {
            return mem.Valid;
        }

        return c.Valid;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NextOf(IInternalIterator c)
    {
        if (c is LevelIterator level)
        {
            level.Next();
        }
        else if (c is TableFileIterator file)
        {
            file.Next();
        }
        else if (c is MemTableIterator mem)
        {
            mem.Next();
        }
        else
        {
            c.Next();
        }
    }

    /// <summary>Starts a table child's seek early (see <see cref="TableIterator.PrepareSeek"/>); other children need nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrepareSeekOf(IInternalIterator c, ReadOnlySpan<byte> target)
    {
        if (c is LevelIterator level)
        {
            level.PrepareSeek(target);
        }
        else if (c is TableFileIterator file)
        {
            file.PrepareSeek(target);
        }
    }
}
