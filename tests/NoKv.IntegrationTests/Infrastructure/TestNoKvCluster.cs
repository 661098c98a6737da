using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.Client.Hosting;
using NoKv.Grains.Controller;
using NoKv.Grains.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// An in-process NoKV cluster for tests: N silos, silo i (Orleans name Primary, Secondary_1, ...) is store
/// i+1 with its own data directory under a fresh temp root, which survives silo restarts and is deleted on
/// dispose. Faults and lost replies are injected through <see cref="Faults"/> and <see cref="LostReplies"/>.
/// </summary>
public sealed class TestNoKvCluster : IAsyncDisposable
{
    private TestNoKvCluster(InProcessTestCluster cluster, string root, NetworkFaults faults, LostReplies lostReplies, RequestPaths paths, FrozenStores frozen, int silos)
    {
        Frozen = frozen;
        Paths = paths;
        Cluster = cluster;
        Root = root;
        Faults = faults;
        LostReplies = lostReplies;
        Stores = Enumerable.Range(1, silos).Select(i => new StoreId(i)).ToArray();
    }

    /// <summary>Name of the NoKV grain storage provider every test silo registers.</summary>
    public const string GrainStorageName = "nokv";

    public InProcessTestCluster Cluster { get; }

    public string Root { get; }

    public NetworkFaults Faults { get; }

    public LostReplies LostReplies { get; }

    /// <summary>Stores whose replicas do not answer client requests until thawed (a stopped process, as seen by clients).</summary>
    public FrozenStores Frozen { get; }

    /// <summary>How client requests reached replicas (straight to the replica's silo or not), across all silos.</summary>
    public RequestPaths Paths { get; }

    public IReadOnlyList<StoreId> Stores { get; }

    public IKvStore Store => Cluster.Client.ServiceProvider.GetRequiredService<IKvStore>();

    public NoKv.Client.Locks.ILockService Locks => Cluster.Client.ServiceProvider.GetRequiredService<NoKv.Client.Locks.ILockService>();

    public INoKvAdmin Admin => Cluster.Client.ServiceProvider.GetRequiredService<INoKvAdmin>();

    /// <summary>When true, dispose leaves the data directories for a later cluster over the same <see cref="Root"/>.</summary>
    public bool KeepData { get; set; }

    /// <summary>
    /// Starts a cluster over <paramref name="root"/> (a fresh temp directory when null; pass a previous
    /// cluster's Root, with KeepData set, to restart the same stores) and waits for every shard to have a leader.
    /// </summary>
    /// <param name="activityPropagation">Carry trace context across grain calls (Orleans' activity propagation) on silos and client.</param>
    /// <param name="controller">Changes to the test's controller options (the balancer is off unless a test turns it on).</param>
    /// <param name="layoutStores">Stores of the bootstrap layout (default: every silo's); a silo outside it starts as a new, empty store.</param>
    /// <param name="memtableBytes">Each store's memtable size (small values make data reach tables, and size estimates, sooner).</param>
    public static async Task<TestNoKvCluster> StartAsync(int silos = 3, int shards = 2, Action<NoKvClientOptions>? client = null, string? root = null, long snapshotEntries = 10_000, bool activityPropagation = false, Action<NoKvControllerOptions>? controller = null, int[]? layoutStores = null, int memtableBytes = 4 << 20)
    {
        root ??= Path.Combine(Path.GetTempPath(), "nokv-it-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var faults = new NetworkFaults();
        var lostReplies = new LostReplies();
        var paths = new RequestPaths();
        var frozen = new FrozenStores();
        var stores = layoutStores ?? Enumerable.Range(1, silos).ToArray();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((options, silo) =>
        {
            int store = StoreOf(options.SiloName);
            silo.Services.AddSingleton(faults);
            silo.Services.AddSingleton(lostReplies);
            silo.Services.AddSingleton(paths);
            silo.AddIncomingGrainCallFilter<RaftFaultFilter>();
            silo.AddIncomingGrainCallFilter<RequestPathFilter>();
            silo.AddIncomingGrainCallFilter(new FreezeFilter(frozen, new StoreId(store)));
            silo.AddNoKvGrainStorage(GrainStorageName);

            // Heartbeats every 250 ms and a store down after 3 s of silence, so controller tests finish quickly.
            silo.Services.Configure<NoKvControllerOptions>(o =>
            {
                o.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
                o.StoreDownAfter = TimeSpan.FromSeconds(3);
                o.AttemptTimeout = TimeSpan.FromSeconds(1);
                o.OperationTimeout = TimeSpan.FromSeconds(8);
                o.OperationInterval = TimeSpan.FromMilliseconds(200);
                o.OperationStepTimeout = TimeSpan.FromSeconds(20);

                // Tests that count operations or expect a fixed layout would see the balancer's; tests of it turn it on.
                o.LeaderBalance = false;
                o.ReplicaBalance = false;
                o.AutoSplit = false;
                o.AutoMerge = false;
                controller?.Invoke(o);
            });

            if (activityPropagation)
            {
                silo.AddActivityPropagation();
            }

            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
            silo.AddNoKv(
                s =>
                {
                    s.StoreId = store;
                    s.DataDirectory = Path.Combine(root, $"store-{store}");
                    s.MemtableSizeBytes = memtableBytes;
                    s.BlockCacheBytes = 4 << 20;
                },
                c =>
                {
                    c.Stores = stores;
                    c.InitialShards = shards;
                },
                r =>
                {
                    r.TickInterval = TimeSpan.FromMilliseconds(50);
                    r.ElectionTicks = 10;
                    r.HeartbeatTicks = 2;
                    r.RequestTimeout = TimeSpan.FromSeconds(3);
                    r.SnapshotEntries = snapshotEntries;
                });
        });
        // The client re-reads its gateway list every second, so a restarted silo's new gateway is admitted (and
        // direct routes to it resume) within seconds instead of the default minute.
        builder.ConfigureClient(c =>
        {
            c.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            if (activityPropagation)
            {
                c.AddActivityPropagation();
            }
        });
        builder.ConfigureClientHost(host => host.Services.AddNoKvClient(o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(20);
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
            client?.Invoke(o);
        }));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var result = new TestNoKvCluster(cluster, root, faults, lostReplies, paths, frozen, silos);
        await result.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        return result;
    }

    /// <summary>Store id of a test silo: the silo's instance number (the digits ending its name) plus one.</summary>
    public static int StoreOf(string siloName)
    {
        int digits = siloName.Length;
        while (digits > 0 && char.IsAsciiDigit(siloName[digits - 1]))
        {
            digits--;
        }

        if (digits == siloName.Length)
        {
            throw new ArgumentException($"Test silo name '{siloName}' does not end in an instance number.");
        }

        return int.Parse(siloName[digits..], CultureInfo.InvariantCulture) + 1;
    }

    public InProcessSiloHandle SiloOf(StoreId store) =>
        Cluster.Silos.Concat(_restarted).Single(s => s.IsActive && StoreOf(s.Name) == store.Value);

    private readonly List<InProcessSiloHandle> _restarted = new();

    /// <summary>Starts again the silo of a store whose silo was stopped or killed, over the same data directory.</summary>
    public async Task<InProcessSiloHandle> RestartStoreAsync(StoreId store)
    {
        var handle = await Cluster.StartSiloAsync(store.Value - 1, Cluster.Options);
        if (!Cluster.Silos.Contains(handle))
        {
            _restarted.Add(handle);
        }

        return handle;
    }

    /// <summary>Waits until every shard has a leader that a majority of its live replicas agree on.</summary>
    public async Task<ClusterStatus> WaitForLeadersAsync(TimeSpan timeout, Func<ClusterStatus, bool>? extra = null)
    {
        return await Eventually.WaitAsync(
            async () => await Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(1)),
            status => status.Map.Shards.All(shard => LeaderOf(status, shard.Id) is not null) && (extra is null || extra(status)),
            timeout,
            "every shard to elect a leader");
    }

    /// <summary>Waits until every shard is led by its preferred store (its first replica).</summary>
    public Task<ClusterStatus> WaitForBalancedLeadersAsync(TimeSpan timeout) =>
        WaitForLeadersAsync(timeout, status => status.Map.Shards.All(shard => LeaderOf(status, shard.Id) == shard.Replicas[0]));

    public static StoreId? LeaderOf(ClusterStatus status, ShardId shard)
    {
        foreach (var report in status.Replicas)
        {
            if (report.Replica.Shard == shard && report.Status is { Role: ReplicaRole.Leader } s)
            {
                int agree = status.Replicas.Count(r => r.Replica.Shard == shard && r.Status?.Leader == s.Replica.Store && r.Status.Term == s.Term);
                if (agree * 2 > status.Replicas.Count(r => r.Replica.Shard == shard))
                {
                    return s.Replica.Store;
                }
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _restarted)
        {
            try
            {
                await silo.StopSiloAsync(true);
                await silo.DisposeAsync();
            }
            catch (Exception)
            {
                // Best effort: the test may have stopped it already.
            }
        }

        try
        {
            await Cluster.StopAllSilosAsync();
        }
        catch (Exception)
        {
            // Silos already killed by the test; nothing else to stop.
        }

        await Cluster.DisposeAsync();
        if (KeepData)
        {
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
