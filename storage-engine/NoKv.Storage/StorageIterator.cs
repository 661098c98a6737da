namespace NoKv.Storage;

/// <summary>
/// Iterates user keys in bytewise order over a consistent view (a snapshot taken when the iterator was
/// created, or the one given in <see cref="ReadOptions"/>), within the read options' bounds.
/// Not thread-safe. <see cref="Key"/> and <see cref="Value"/> stay valid until the next move or Dispose.
/// Dispose releases the view (files it pins can then be deleted).
/// </summary>
public abstract class StorageIterator : IDisposable
{
    public abstract bool Valid { get; }

    public abstract void SeekToFirst();

    public abstract void SeekToLast();

    /// <summary>Positions at the first key &gt;= <paramref name="key"/>.</summary>
    public abstract void Seek(ReadOnlySpan<byte> key);

    /// <summary>Positions at the last key &lt;= <paramref name="key"/>.</summary>
    public abstract void SeekForPrev(ReadOnlySpan<byte> key);

    /// <summary>REQUIRES: <see cref="Valid"/>.</summary>
    public abstract void Next();

    /// <summary>REQUIRES: <see cref="Valid"/>.</summary>
    public abstract void Prev();

    /// <summary>REQUIRES: <see cref="Valid"/>.</summary>
    public abstract ReadOnlySpan<byte> Key { get; }

    /// <summary>REQUIRES: <see cref="Valid"/>.</summary>
    public abstract ReadOnlySpan<byte> Value { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
