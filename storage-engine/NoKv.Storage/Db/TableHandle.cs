using NoKv.Storage.Sstable;

namespace NoKv.Storage.Db;

/// <summary>
/// An open table reader shared by the table cache and its users. Reference counted so that evicting it
/// from the cache, or deleting its file, never closes it under a reader: it closes when the last user
/// releases it. Thread-safe.
/// </summary>
internal sealed class TableHandle
{
    private int _refs = 1;

    public TableHandle(ulong number, TableReader reader)
    {
        Number = number;
        Reader = reader;
    }

    public ulong Number { get; }

    public TableReader Reader { get; }

    /// <summary>Takes a reference unless the handle is already closed.</summary>
    public bool TryRef()
    {
        int refs = Volatile.Read(ref _refs);
        while (refs > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refs, refs + 1, refs);
            if (seen == refs)
            {
                return true;
            }

            refs = seen;
        }

        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            Reader.Dispose();
        }
    }
}
