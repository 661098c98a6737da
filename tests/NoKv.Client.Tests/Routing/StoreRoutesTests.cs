using System.Net;
using NoKv.Abstractions.Routing;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using Orleans.Runtime;
using Xunit;

namespace NoKv.Client.Tests.Routing;

/// <summary>
/// Route discovery over a fake gateway list (ports 30001.., gateway i hosting store i unless a test says otherwise)
/// on a manual clock. Quarantine here is 1 s staleness + 1 s list refresh + 5 s slack = 7 s.
/// </summary>
public sealed class StoreRoutesTests
{
    private static readonly TimeSpan Quarantine = TimeSpan.FromSeconds(7);

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeGatewayList _list = new();
    private readonly Dictionary<GrainId, FakeStoreService> _services = new();
    private readonly StoreRoutes _routes;

    public StoreRoutesTests()
    {
        for (int i = 1; i <= 4; i++)
        {
            _services[StoreServiceIds.At(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 30000 + i), 0))] = new FakeStoreService(new StoreId(i));
        }

        _list.Set(30001, 30002, 30003);
        var grains = new FakeGrainFactory(services: id => _services[id]);
        _routes = new StoreRoutes(grains, _list, TimeSpan.FromSeconds(1), _clock);
    }

    private FakeStoreService Gateway(int i) => _services[StoreServiceIds.At(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 30000 + i), 0))];

    [Fact]
    public async Task AMissStartsDiscoveryAndEveryListedGatewayGetsARoute()
    {
        Assert.Equal(Quarantine, _routes.Quarantine);
        Assert.Null(_routes.Find(new StoreId(1)));
        await _routes.PendingRefresh;
        Assert.Equal(1, _routes.Discoveries);
        for (int i = 1; i <= 3; i++)
        {
            Assert.Same(Gateway(i), _routes.Find(new StoreId(i)));
        }

        Assert.Null(Routed(4));
    }

    [Fact]
    public async Task WithoutAGatewayListThereAreNoRoutes()
    {
        var routes = new StoreRoutes(new FakeGrainFactory(), null, TimeSpan.FromSeconds(1), _clock);
        Assert.Null(routes.Find(new StoreId(1)));
        await routes.PendingRefresh;
        Assert.Equal(0, routes.Discoveries);
    }

    [Fact]
    public async Task AGatewayThatDoesNotAnswerDelaysOnlyItsOwnRouteAndIsQuarantined()
    {
        Gateway(3).Frozen = true;
        _routes.RequestRefresh();

        // Stores 1 and 2 are routed while store 3's gateway keeps discovery waiting.
        await ShardRouterTests.Eventually(() => Routed(1) is not null && Routed(2) is not null);
        Assert.False(_routes.PendingRefresh.IsCompleted);
        await ShardRouterTests.Eventually(() => _clock.PendingTimers == 1);
        _clock.Advance(StoreRoutes.DescribeTimeout);
        await _routes.PendingRefresh;
        Assert.Null(Routed(3));
        Assert.Same(Gateway(1), Routed(1));

        // Answering again, it still sits out the quarantine from its failure: discoveries do not even ask it...
        Gateway(3).Frozen = false;
        int asked = Gateway(3).Describes;
        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        await DiscoverAfter(Quarantine - StoreRoutes.MinRefreshInterval - TimeSpan.FromTicks(1));
        Assert.Equal(asked, Gateway(3).Describes);
        Assert.Null(Routed(3));

        // ...until it has been quiet for the whole quarantine.
        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        Assert.Equal(asked + 1, Gateway(3).Describes);
        Assert.Same(Gateway(3), Routed(3));
    }

    [Fact]
    public async Task ARouteThatGotNoAnswerIsDroppedAndItsGatewayQuarantined()
    {
        await DiscoverAfter(TimeSpan.Zero);
        _routes.Forget(new StoreId(2), Gateway(2), quarantine: true);
        Assert.Null(Routed(2));
        Assert.Same(Gateway(1), Routed(1));

        // The failure asked for a discovery; it runs a minimum interval after the last, and skips the gateway.
        await RunDelayedDiscovery();
        Assert.Null(Routed(2));
        Assert.Same(Gateway(1), Routed(1));

        await DiscoverAfter(Quarantine - StoreRoutes.MinRefreshInterval - TimeSpan.FromTicks(1));
        Assert.Null(Routed(2));
        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        Assert.Same(Gateway(2), Routed(2));
    }

    [Fact]
    public async Task ARouteToASiloThatAnsweredForAnotherStoreIsRediscoveredAtOnce()
    {
        await DiscoverAfter(TimeSpan.Zero);

        // The silo behind gateway 2 now hosts store 4 (say, restarted over another data directory).
        Gateway(2).Store = new StoreId(4);
        _routes.Forget(new StoreId(2), Gateway(2), quarantine: false);
        await RunDelayedDiscovery();
        Assert.Null(Routed(2));
        Assert.Same(Gateway(2), Routed(4));
    }

    [Fact]
    public async Task ForgettingARouteThatWasAlreadyReplacedChangesNothing()
    {
        await DiscoverAfter(TimeSpan.Zero);
        _routes.Forget(new StoreId(1), Gateway(2), quarantine: true);
        Assert.Same(Gateway(1), Routed(1));
        Assert.Same(Gateway(2), Routed(2));

        // Nor was gateway 2 quarantined by it.
        await RunDelayedDiscovery();
        Assert.Same(Gateway(2), Routed(2));
    }

    [Fact]
    public async Task AGatewayNewToTheListIsUsedOnlyAfterTheQuarantine()
    {
        await DiscoverAfter(TimeSpan.Zero);
        _list.Set(30001, 30002, 30003, 30004);
        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        await DiscoverAfter(Quarantine - TimeSpan.FromTicks(1));
        Assert.Equal(0, Gateway(4).Describes);
        Assert.Null(Routed(4));

        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        Assert.Same(Gateway(4), Routed(4));
    }

    [Fact]
    public async Task AGatewayThatLeavesTheListAndComesBackStartsOverAsNew()
    {
        await DiscoverAfter(TimeSpan.Zero);
        _list.Set(30001, 30002);
        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        Assert.Null(Routed(3));

        _list.Set(30001, 30002, 30003);
        await DiscoverAfter(StoreRoutes.MinRefreshInterval);
        Assert.Null(Routed(3));
        await DiscoverAfter(Quarantine);
        Assert.Same(Gateway(3), Routed(3));
    }

    [Fact]
    public async Task DiscoveryRunsAtMostOncePerMinimumInterval()
    {
        await DiscoverAfter(TimeSpan.Zero);
        _routes.Forget(new StoreId(1), Gateway(1), quarantine: false);
        await ShardRouterTests.Eventually(() => _clock.PendingTimers == 1);
        _routes.RequestRefresh();
        _clock.Advance(StoreRoutes.MinRefreshInterval - TimeSpan.FromTicks(1));
        Assert.Equal(1, _routes.Discoveries);
        Assert.Null(Routed(1));

        _clock.Advance(TimeSpan.FromTicks(1));
        await _routes.PendingRefresh;
        Assert.Equal(2, _routes.Discoveries);
        Assert.Same(Gateway(1), Routed(1));
    }

    [Fact]
    public async Task AHitAsksForNoDiscovery()
    {
        await DiscoverAfter(TimeSpan.Zero);
        var last = _routes.PendingRefresh;
        Assert.Same(Gateway(1), _routes.Find(new StoreId(1)));
        Assert.Same(last, _routes.PendingRefresh);
    }

    private IStoreService? Routed(int store) => _routes.Snapshot.TryGetValue(new StoreId(store), out var route) ? route.Service : null;

    /// <summary>Runs the discovery a failure asked for right after the last one: it waits a minimum interval on the clock.</summary>
    private async Task RunDelayedDiscovery()
    {
        await ShardRouterTests.Eventually(() => _clock.PendingTimers == 1);
        _clock.Advance(StoreRoutes.MinRefreshInterval);
        await _routes.PendingRefresh;
    }

    /// <summary>
    /// Moves the clock by <paramref name="after"/>, runs one discovery and waits for it. Tests space discoveries by
    /// at least the minimum interval, so this one starts at once.
    /// </summary>
    private async Task DiscoverAfter(TimeSpan after)
    {
        Assert.True(_routes.PendingRefresh.IsCompleted, "a discovery is still pending");
        long before = _routes.Discoveries;
        _clock.Advance(after);
        _routes.RequestRefresh();
        await _routes.PendingRefresh;
        Assert.Equal(before + 1, _routes.Discoveries);
    }
}
