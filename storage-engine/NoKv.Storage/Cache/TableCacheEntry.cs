using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>
/// One open table in the <see cref="TableCache"/>, reference-counted: the cache holds one reference while
/// the entry is resident, and every lookup or iterator holds one while it uses the reader. The reader (and
/// its file handle) is closed when the count reaches zero, so evicting a table that a reader is using
/// only closes it after that reader is done.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="AddReference"/> is called under the owning shard's lock (so it cannot race
/// with the cache dropping its own reference); <see cref="Release"/> may be called from any thread.
/// Prev/Next are guarded by the shard's lock.
/// </remarks>
internal sealed class TableCacheEntry
{
    private int _references;

    public TableCacheEntry(long fileNumber, TableReader reader, int initialReferences)
    {
        FileNumber = fileNumber;
        Reader = reader;
        _references = initialReferences;
    }

    public long FileNumber { get; }

    public TableReader Reader { get; }

    public TableCacheEntry? Prev { get; set; }

    public TableCacheEntry? Next { get; set; }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        int remaining = Interlocked.Decrement(ref _references);
        if (remaining == 0)
        {
            Reader.Dispose();
        }
        else if (remaining < 0)
        {
            throw new InvalidOperationException($"Table {FileNumber} released more often than acquired.");
        }
    }
}
