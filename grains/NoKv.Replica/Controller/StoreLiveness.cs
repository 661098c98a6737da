using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// The controller's view of store health: heartbeats are kept in memory (they change every few seconds and are
/// rebuilt within one interval by a new controller), state transitions are committed to the controller group:
/// up to down after <see cref="DownAfter"/> without a heartbeat, down back to up on the next heartbeat, a store heard
/// for the first time is added up. Every transition is a compare-and-swap on the store's row as read just before, so a
/// second copy of this logic (a duplicate activation) cannot undo or repeat a transition it did not see.
/// A new instance counts its own start as the last heartbeat of every store, so it never marks stores down merely
/// because it has not heard from them yet.
/// Threading: one logical thread at a time.
/// </summary>
public sealed class StoreLiveness
{
    private readonly ControllerGroupClient _group;
    private readonly ShardMap _bootstrap;
    private readonly long _startedAtMs;
    private readonly Dictionary<StoreId, (long AtMs, long AtUnixMs, StoreHeartbeat Heartbeat)> _heard = new();
    private bool _seeded;

    public StoreLiveness(ControllerGroupClient group, ShardMap bootstrap, TimeSpan downAfter)
    {
        _group = group;
        _bootstrap = bootstrap;
        DownAfter = downAfter;
        _startedAtMs = group.Transport.NowMs;
    }

    public TimeSpan DownAfter { get; }

    /// <summary>The last heartbeat of each store heard since this instance started, with its age in milliseconds.</summary>
    public IEnumerable<(StoreHeartbeat Heartbeat, long AgeMs)> Heartbeats
    {
        get
        {
            long now = _group.Transport.NowMs;
            foreach (var (_, heard) in _heard)
            {
                yield return (heard.Heartbeat, now - heard.AtMs);
            }
        }
    }

    public void OnHeartbeat(StoreHeartbeat heartbeat) =>
        _heard[heartbeat.Store] = (_group.Transport.NowMs, _group.Transport.WallClockMs, heartbeat);

    /// <summary>
    /// Creates the map and store rows from the bootstrap layout if the controller has none (its first start). Each
    /// row is created only if absent, so concurrent or repeated seeding is harmless.
    /// </summary>
    public async Task EnsureSeededAsync(CancellationToken cancellationToken = default)
    {
        if (_seeded)
        {
            return;
        }

        if (await _group.ReadAsync(ControllerRows.Map, cancellationToken).ConfigureAwait(true) is null)
        {
            await _group.CompareAndSwapAsync(ControllerRows.Map, null, ControllerMap.FromBootstrap(_bootstrap).Encode(), cancellationToken).ConfigureAwait(true);
        }

        long now = _group.Transport.WallClockMs;
        foreach (var store in _bootstrap.Stores)
        {
            var key = ControllerRows.Store(store.Id);
            if (await _group.ReadAsync(key, cancellationToken).ConfigureAwait(true) is null)
            {
                await _group.CompareAndSwapAsync(key, null, new StoreRecord(store.Id, StoreState.Up, now, 0, 0, string.Empty).Encode(), cancellationToken).ConfigureAwait(true);
            }
        }

        _seeded = true;
    }

    /// <summary>Commits the transitions the current heartbeats call for; returns how many were committed.</summary>
    public async Task<int> EvaluateAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSeededAsync(cancellationToken).ConfigureAwait(true);
        var snapshot = await ControllerSnapshot.ReadAsync(_group, cancellationToken).ConfigureAwait(true);
        long now = _group.Transport.NowMs;
        long wall = _group.Transport.WallClockMs;
        long downAfter = (long)DownAfter.TotalMilliseconds;
        int committed = 0;
        foreach (var (store, (record, row)) in snapshot.Stores)
        {
            bool heard = _heard.TryGetValue(store, out var last);
            long silentMs = now - (heard ? last.AtMs : _startedAtMs);
            StoreRecord? next = null;
            if (record.State == StoreState.Up && silentMs > downAfter)
            {
                next = record with { State = StoreState.Down, StateSinceUnixMs = wall, LastHeartbeatUnixMs = heard ? last.AtUnixMs : record.LastHeartbeatUnixMs };
            }
            else if (record.State == StoreState.Down && heard && silentMs <= downAfter)
            {
                next = record with { State = StoreState.Up, StateSinceUnixMs = wall, LastHeartbeatUnixMs = last.AtUnixMs, Address = last.Heartbeat.Address, CapacityBytes = last.Heartbeat.CapacityBytes };
            }
            else if (heard && silentMs <= downAfter && (record.Address != last.Heartbeat.Address || record.CapacityBytes != last.Heartbeat.CapacityBytes))
            {
                // A store that restarted on another address (or disk): routing and operators need the new one.
                next = record with { Address = last.Heartbeat.Address, CapacityBytes = last.Heartbeat.CapacityBytes, LastHeartbeatUnixMs = last.AtUnixMs };
            }

            if (next is not null && await _group.CompareAndSwapAsync(ControllerRows.Store(store), row, next.Encode(), cancellationToken).ConfigureAwait(true))
            {
                committed++;
            }
        }

        foreach (var (store, last) in _heard)
        {
            if (!snapshot.Stores.ContainsKey(store) && now - last.AtMs <= downAfter)
            {
                // A store the controller has never recorded (added to the cluster after bootstrap) joins up.
                var record = new StoreRecord(store, StoreState.Up, wall, last.AtUnixMs, last.Heartbeat.CapacityBytes, last.Heartbeat.Address);
                if (await _group.CompareAndSwapAsync(ControllerRows.Store(store), null, record.Encode(), cancellationToken).ConfigureAwait(true))
                {
                    committed++;
                }
            }
        }

        return committed;
    }
}
