namespace NoKv.Storage.Db;

/// <summary>
/// Per-thread cache of a reference to the current <see cref="SuperVersion"/>, so a point read does not
/// increment and decrement the super version's shared reference count (a cache line that bounces between
/// cores when several threads read at once). The scheme is RocksDB's thread-local super version.
/// </summary>
/// <remarks>
/// Each reading thread owns one slot. A slot holds null (nothing cached), <see cref="InUse"/> (its thread is
/// reading with the super version it took out), or a super version on which the slot owns one reference.
/// <list type="bullet">
/// <item><see cref="TryTake"/>: the thread swaps <see cref="InUse"/> in. A super version it finds is current
/// (see below) and is used as is; otherwise the caller takes a fresh reference from the database.</item>
/// <item><see cref="Return"/>: the thread swaps the super version back in place of <see cref="InUse"/>. If the
/// swap fails, an install replaced the marker meanwhile: the slot is stale, and the thread drops its
/// reference instead.</item>
/// <item><see cref="Invalidate"/>: after publishing a new super version, the installer swaps every slot to
/// null and drops each reference it finds (a slot in use is left null, which makes its Return fail).</item>
/// </list>
/// Invariant: outside an install in progress, every super version cached in a slot is the current one, so a
/// thread's cached reference never keeps an old version (and its obsolete files) alive. Every operation is
/// one uncontended atomic swap on the thread's own slot. Thread-safe.
/// </remarks>
internal sealed class SuperVersionCache : IDisposable
{
    // Marker for "taken out by its thread"; never referenced or used as a super version.
    private static readonly object InUse = new();

    private readonly ThreadLocal<SuperVersionSlot> _slots = new(static () => new SuperVersionSlot(), trackAllValues: true);

    /// <summary>
    /// Takes the cached super version out of this thread's slot, or returns null when none is cached: the
    /// caller then takes a new reference from the database. Either way the caller passes the super version
    /// it reads with to <see cref="Return"/>, exactly once, on this thread.
    /// </summary>
    /// <param name="slot">This thread's slot, to hand back to <see cref="Return"/> (saves a second thread-local lookup).</param>
    public SuperVersion? TryTake(out SuperVersionSlot slot)
    {
        slot = _slots.Value!;
        return Interlocked.Exchange(ref slot.Value, InUse) as SuperVersion;
    }

    /// <summary>Puts <paramref name="sv"/> back into <paramref name="slot"/> (which then owns its reference), or drops its reference if the slot went stale.</summary>
    public void Return(SuperVersionSlot slot, SuperVersion sv)
    {
        if (Interlocked.CompareExchange(ref slot.Value, sv, InUse) != InUse)
        {
            sv.Unref();
        }
    }

    /// <summary>Empties every slot, dropping the references they hold. Call after publishing a new super version.</summary>
    public void Invalidate()
    {
        foreach (SuperVersionSlot slot in _slots.Values)
        {
            if (Interlocked.Exchange(ref slot.Value, null) is SuperVersion sv)
            {
                sv.Unref();
            }
        }
    }

    /// <summary>Drops every cached reference. REQUIRES: no reads in flight or starting.</summary>
    public void Dispose()
    {
        Invalidate();
        _slots.Dispose();
    }
}
