using System.Collections.Immutable;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Routing;

/// <summary>
/// Which stores stopped answering. A store that let an attempt time out, or whose silo could not be reached, is
/// suspect: replica choice passes over it while another replica will do, so a dead or frozen silo costs each shard
/// at most one attempt timeout, not one per retry. Any answer from the store (a success or a typed error) clears
/// the suspicion. So that a store wrongly suspected (slow once, not dead) is not avoided for ever, a suspect store
/// is admitted for one probe request per <see cref="ProbeInterval"/>; the probe's answer clears it, its timeout
/// starts the interval again.
/// <para>Thread-safe. The suspect set is an immutable snapshot, so the common case (no suspect) is one volatile
/// read on every request; only suspicion and clearing write, under a lock.</para>
/// </summary>
internal sealed class StoreHealth
{
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private volatile ImmutableDictionary<StoreId, Suspicion> _suspects = ImmutableDictionary<StoreId, Suspicion>.Empty;

    /// <param name="probeInterval">Shortest time between two requests admitted to a suspect store.</param>
    public StoreHealth(TimeProvider time, TimeSpan probeInterval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(probeInterval, TimeSpan.Zero);
        _time = time;
        ProbeInterval = probeInterval;
    }

    public TimeSpan ProbeInterval { get; }

    /// <summary>True when no store is suspect (the fast path of every replica choice).</summary>
    public bool AllHealthy => _suspects.IsEmpty;

    public bool IsSuspect(StoreId store)
    {
        var suspects = _suspects;
        return !suspects.IsEmpty && suspects.ContainsKey(store);
    }

    /// <summary>
    /// <paramref name="store"/> did not answer (attempt timeout, connection refused or reset, no live silo): it is
    /// passed over until it answers, and its next probe is one <see cref="ProbeInterval"/> from now.
    /// </summary>
    public void Suspect(StoreId store)
    {
        long next = _time.GetTimestamp() + ToTimestampTicks(ProbeInterval);
        lock (_gate)
        {
            if (_suspects.TryGetValue(store, out var suspicion))
            {
                suspicion.PostponeProbe(next);
            }
            else
            {
                _suspects = _suspects.SetItem(store, new Suspicion(next));
            }
        }
    }

    /// <summary><paramref name="store"/> answered: no longer suspect.</summary>
    public void Cleared(StoreId store)
    {
        var suspects = _suspects;
        if (suspects.IsEmpty || !suspects.ContainsKey(store))
        {
            return;
        }

        lock (_gate)
        {
            _suspects = _suspects.Remove(store);
        }
    }

    /// <summary>
    /// True when a request may go to <paramref name="store"/>: it is not suspect, or it is and its probe is due, in
    /// which case this call takes the probe (the next one is due a <see cref="ProbeInterval"/> later, so concurrent
    /// callers do not all probe at once).
    /// </summary>
    public bool TryAdmit(StoreId store)
    {
        var suspects = _suspects;
        if (suspects.IsEmpty || !suspects.TryGetValue(store, out var suspicion))
        {
            return true;
        }

        long now = _time.GetTimestamp();
        return suspicion.TryTakeProbe(now, now + ToTimestampTicks(ProbeInterval));
    }

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>One suspect store: when its next probe is due (in <see cref="TimeProvider.GetTimestamp"/> units).</summary>
    private sealed class Suspicion(long nextProbe)
    {
        private long _nextProbe = nextProbe;

        public void PostponeProbe(long next) => Interlocked.Exchange(ref _nextProbe, next);

        public bool TryTakeProbe(long now, long next)
        {
            long due = Interlocked.Read(ref _nextProbe);
            return now >= due && Interlocked.CompareExchange(ref _nextProbe, next, due) == due;
        }
    }
}
