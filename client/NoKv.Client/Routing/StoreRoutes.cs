using System.Collections.Frozen;
using System.Net;
using NoKv.Abstractions.Routing;
using NoKv.Abstractions.Sharding;
using Orleans.Messaging;
using Orleans.Runtime;

namespace NoKv.Client.Routing;

/// <summary>
/// The client's direct routes: for each store, a reference to the <see cref="IStoreService"/> behind the
/// gateway of the silo hosting it. A request sent there reaches that silo's gateway directly and is served
/// locally, instead of going through whichever gateway the Orleans client assigned to the replica grain's
/// bucket and being forwarded (see <see cref="IStoreService"/>).
/// <para>Discovery asks gateways from the client's own gateway list which store they host: the answer comes
/// from the silo behind that very address (a gateway serves a system-target message locally only when it names
/// that gateway), so no server-side view of gateway ports is needed, and the address is exactly the one the
/// client's gateway manager connects to. It runs in the background; until a store has a route its requests take
/// the plain grain call. A failure on a route drops it and asks for a rediscovery, so a dead silo is never
/// retried through its route; discovery runs at most once per <see cref="MinRefreshInterval"/>.</para>
/// <para>Safety rule: a message addressed to a gateway that the Orleans client does not currently count as live
/// is sent to another gateway, which forwards it to the addressed endpoint as if it were a silo; if a gateway is
/// listening there, the forwarding silo takes that connection for one to the silo behind it and loses traffic on
/// it. The client's live set is not observable, so a gateway is used only when it must be in it: it was listed
/// when discovery first ran (the client starts with every listed gateway live) and has not failed since, or it
/// has been listed, without a failure, for longer than the client takes to admit a new gateway or re-admit a dead
/// one (the gateway list provider's staleness plus the gateway list refresh period, see <see cref="Quarantine"/>).</para>
/// <para>Each gateway's answer is published as soon as it arrives, so a gateway that does not answer (a frozen
/// silo) delays only its own store's route, never the others' (each answer waits at most <see cref="DescribeTimeout"/>).</para>
/// <para>Thread-safe: the route table is an immutable snapshot swapped atomically; gateway bookkeeping is under a
/// lock taken only by discovery and failures, never by a request that finds its route.</para>
/// </summary>
internal sealed class StoreRoutes
{
    /// <summary>Shortest time between two discoveries, however many misses and failures ask for one.</summary>
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long discovery waits for one gateway's answer before leaving that store without a route.</summary>
    public static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan QuarantineSlack = TimeSpan.FromSeconds(5);

    private readonly IGrainFactory _grains;
    private readonly IGatewayListProvider? _gateways;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<SiloAddress, GatewayRecord> _known = new();
    private volatile FrozenDictionary<StoreId, StoreRoute> _routes = FrozenDictionary<StoreId, StoreRoute>.Empty;
    private bool _discoveredOnce;
    private int _refreshing;
    private long _lastRefreshStarted = long.MinValue;
    private long _discoveries;
    private Task _pending = Task.CompletedTask;

    /// <param name="gateways">The client's gateway list; null disables direct routes (inside a silo, or when turned off).</param>
    /// <param name="gatewayListRefreshPeriod">How often the Orleans client re-reads the gateway list (its GatewayOptions).</param>
    public StoreRoutes(IGrainFactory grains, IGatewayListProvider? gateways, TimeSpan gatewayListRefreshPeriod)
        : this(grains, gateways, gatewayListRefreshPeriod, TimeProvider.System)
    {
    }

    public StoreRoutes(IGrainFactory grains, IGatewayListProvider? gateways, TimeSpan gatewayListRefreshPeriod, TimeProvider time)
    {
        _grains = grains;
        _gateways = gateways;
        _time = time;
        Quarantine = (gateways?.MaxStaleness ?? TimeSpan.Zero) + gatewayListRefreshPeriod + QuarantineSlack;
    }

    /// <summary>How long a gateway that is new to the list, or failed, is kept out of direct routes.</summary>
    public TimeSpan Quarantine { get; }

    /// <summary>Completed discoveries; for diagnostics.</summary>
    public long Discoveries => Interlocked.Read(ref _discoveries);

    /// <summary>The routes known now, without asking for a discovery as a miss in <see cref="Find"/> does; for diagnostics and tests.</summary>
    internal IReadOnlyDictionary<StoreId, StoreRoute> Snapshot => _routes;

    /// <summary>The background discovery running or last run (completed when none); for tests.</summary>
    internal Task PendingRefresh => Volatile.Read(ref _pending);

    /// <summary>The route to <paramref name="store"/>, or null (and a discovery is requested) when none is known.</summary>
    public IStoreService? Find(StoreId store)
    {
        if (_routes.TryGetValue(store, out var route))
        {
            return route.Service;
        }

        RequestRefresh();
        return null;
    }

    /// <summary>
    /// A request through <paramref name="service"/> to <paramref name="store"/> failed: drops the route and requests
    /// a rediscovery; until then the store's requests take the plain grain call. <paramref name="quarantine"/> (no
    /// answer: connection refused or reset, message rejected, timeout) also keeps the gateway out of routes for
    /// <see cref="Quarantine"/>, because the Orleans client may now count it dead while it comes back. Without it
    /// (the service answered, e.g. that it hosts another store) rediscovery may use the gateway again at once.
    /// </summary>
    public void Forget(StoreId store, IStoreService service, bool quarantine)
    {
        lock (_gate)
        {
            var current = _routes;
            if (current.TryGetValue(store, out var route) && ReferenceEquals(route.Service, service))
            {
                if (quarantine)
                {
                    MarkFailed(route.Gateway);
                }

                var next = new Dictionary<StoreId, StoreRoute>(current);
                next.Remove(store);
                _routes = next.ToFrozenDictionary();
            }
        }

        RequestRefresh();
    }

    /// <summary>Starts a background discovery unless one is running; it waits out <see cref="MinRefreshInterval"/> first.</summary>
    public void RequestRefresh()
    {
        if (_gateways is null || Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _pending, Task.Run(RefreshInBackgroundAsync));
    }

    private async Task RefreshInBackgroundAsync()
    {
        try
        {
            long last = Interlocked.Read(ref _lastRefreshStarted);
            if (last != long.MinValue)
            {
                var wait = MinRefreshInterval - _time.GetElapsedTime(last);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time).ConfigureAwait(false);
                }
            }

            await DiscoverAsync(_gateways!).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The gateway list could not be read; requests keep taking the plain grain call and the next miss
            // or failure asks again.
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private async Task DiscoverAsync(IGatewayListProvider gateways)
    {
        Interlocked.Exchange(ref _lastRefreshStarted, _time.GetTimestamp());
        var uris = await gateways.GetGateways().ConfigureAwait(false);
        var eligible = new List<SiloAddress>(uris.Count);
        lock (_gate)
        {
            var listed = new HashSet<SiloAddress>();
            long now = _time.GetTimestamp();
            foreach (var uri in uris)
            {
                if (TryGatewayAddress(uri, out var gateway) && listed.Add(gateway))
                {
                    if (!_known.TryGetValue(gateway, out var state))
                    {
                        state = new GatewayRecord(now, Initial: !_discoveredOnce, LastFailure: null);
                        _known[gateway] = state;
                    }

                    if (IsTrusted(state, now))
                    {
                        eligible.Add(gateway);
                    }
                }
            }

            // A gateway that leaves the list and comes back starts over as new.
            foreach (var gateway in _known.Keys.Where(g => !listed.Contains(g)).ToList())
            {
                _known.Remove(gateway);
            }

            _discoveredOnce = true;
        }

        var pending = new Task<(SiloAddress Gateway, StoreId Store, IStoreService Service)?>[eligible.Count];
        for (int i = 0; i < pending.Length; i++)
        {
            pending[i] = DescribeAsync(eligible[i], _grains.GetGrain<IStoreService>(StoreServiceIds.At(eligible[i])));
        }

        var answers = await Task.WhenAll(pending).ConfigureAwait(false);

        // The complete answer replaces the table: routes through gateways that left the list or stopped answering go.
        lock (_gate)
        {
            var found = new Dictionary<StoreId, StoreRoute>();
            for (int i = 0; i < answers.Length; i++)
            {
                if (answers[i] is { } answer)
                {
                    found[answer.Store] = new StoreRoute(answer.Service, answer.Gateway);
                }
                else
                {
                    MarkFailed(eligible[i]);
                }
            }

            _routes = found.ToFrozenDictionary();
        }

        Interlocked.Increment(ref _discoveries);
    }

    private async Task<(SiloAddress, StoreId, IStoreService)?> DescribeAsync(SiloAddress gateway, IStoreService service)
    {
        try
        {
            var store = await service.DescribeAsync().WaitAsync(DescribeTimeout, _time).ConfigureAwait(false);
            Publish(store, new StoreRoute(service, gateway));
            return (gateway, store, service);
        }
        catch (Exception)
        {
            // Dead, unreachable or not a NoKV silo: no route to it, and it sits out a quarantine.
            return null;
        }
    }

    /// <summary>Adds one answer to the table at once, so requests to that store go direct before discovery ends.</summary>
    private void Publish(StoreId store, StoreRoute route)
    {
        lock (_gate)
        {
            var current = _routes;
            if (current.TryGetValue(store, out var known) && known == route)
            {
                return;
            }

            var next = new Dictionary<StoreId, StoreRoute>(current) { [store] = route };
            _routes = next.ToFrozenDictionary();
        }
    }

    private bool IsTrusted(GatewayRecord state, long now)
    {
        long? since = state.Initial ? state.LastFailure : Math.Max(state.FirstSeen, state.LastFailure ?? long.MinValue);
        return since is not { } t || _time.GetElapsedTime(t, now) >= Quarantine;
    }

    private void MarkFailed(SiloAddress gateway)
    {
        if (_known.TryGetValue(gateway, out var state))
        {
            _known[gateway] = state with { LastFailure = _time.GetTimestamp() };
        }
    }

    /// <summary>
    /// The address the Orleans client's gateway manager keys this gateway by: its endpoint with generation 0
    /// (the gateway list's "gwy.tcp://host:port/generation" form). Only that exact address makes the client
    /// send a system-target message straight to the gateway.
    /// </summary>
    private static bool TryGatewayAddress(Uri uri, out SiloAddress address)
    {
        if (uri.Scheme == "gwy.tcp" && IPAddress.TryParse(uri.DnsSafeHost, out var ip))
        {
            address = SiloAddress.New(new IPEndPoint(ip, uri.Port), 0);
            return true;
        }

        address = null!;
        return false;
    }
}
