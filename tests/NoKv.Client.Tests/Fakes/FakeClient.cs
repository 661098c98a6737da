using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;

namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// A <see cref="KvStore"/> over fake replicas and a fake shard map, with no direct routes. Attempts, backoff and
/// deadlines run on real time (short values, so tests stay fast); store suspicion runs on <see cref="HealthClock"/>,
/// which moves only when a test advances it, so whether a suspect store is probed is decided by the test alone.
/// </summary>
internal sealed class FakeClient
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    /// <param name="time">The store's clock (attempts, backoff, lock leases); real time unless a test passes its own.</param>
    public FakeClient(ShardMap map, Action<NoKvClientOptions>? configure = null, TimeProvider? time = null)
    {
        Options = new NoKvClientOptions
        {
            OperationTimeout = TimeSpan.FromSeconds(20),
            AttemptTimeout = TimeSpan.FromMilliseconds(200),
            InitialBackoff = TimeSpan.FromMilliseconds(1),
            MaxBackoff = TimeSpan.FromMilliseconds(2),
        };
        configure?.Invoke(Options);
        MapGrain = new FakeShardMapGrain(map);
        var grains = new FakeGrainFactory(replicas: Replicas.Grain, map: () => MapGrain);
        Router = new ShardRouter(grains, new StoreRoutes(grains, null, TimeSpan.FromSeconds(1), HealthClock), new StoreHealth(HealthClock, ProbeInterval), Options.AttemptTimeout, HealthClock);
        Store = new KvStore(Router, Options, time ?? TimeProvider.System);
    }

    public NoKvClientOptions Options { get; }

    public FakeReplicas Replicas { get; } = new();

    public FakeShardMapGrain MapGrain { get; }

    public ManualTimeProvider HealthClock { get; } = new();

    public ShardRouter Router { get; }

    public IKvStore Store { get; }

    public NoKv.Client.Locks.ILockService Locks => (NoKv.Client.Locks.ILockService)Store;
}
