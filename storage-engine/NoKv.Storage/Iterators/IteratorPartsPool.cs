using NoKv.Storage.Cache;

namespace NoKv.Storage.Iterators;

/// <summary>
/// A few parked <see cref="IteratorParts"/> of one database, for its iterators to reuse: a rent or a return is one
/// interlocked exchange per slot tried, no lock. When every slot is empty a rent builds new parts; when every slot is
/// taken a return drops them (the collector takes them). Thread-safe.
/// </summary>
internal sealed class IteratorPartsPool
{
    private readonly TableCache _tables;
    private readonly IteratorParts?[] _slots;
    private volatile bool _closed;

    public IteratorPartsPool(TableCache tables, int slots)
    {
        _tables = tables;
        _slots = new IteratorParts?[slots];
    }

    /// <summary>Parts to build an iterator with: parked ones if any, else new ones.</summary>
    public IteratorParts Rent()
    {
        IteratorParts?[] slots = _slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is not null && Interlocked.Exchange(ref slots[i], null) is { } parts)
            {
                return parts;
            }
        }

        return new IteratorParts(_tables);
    }

    /// <summary>Parks <paramref name="parts"/> (its iterator is disposed) for the next <see cref="Rent"/>, or drops them.</summary>
    public void Return(IteratorParts parts)
    {
        parts.Park();
        if (!_closed)
        {
            IteratorParts?[] slots = _slots;
            for (int i = 0; i < slots.Length; i++)
            {
                if (Interlocked.CompareExchange(ref slots[i], parts, null) is null)
                {
                    return;
                }
            }
        }

        parts.Dispose();
    }

    /// <summary>Drops every parked set; later returns drop theirs too (the database is closing).</summary>
    public void Close()
    {
        _closed = true;
        for (int i = 0; i < _slots.Length; i++)
        {
            Interlocked.Exchange(ref _slots[i], null)?.Dispose();
        }
    }
}
