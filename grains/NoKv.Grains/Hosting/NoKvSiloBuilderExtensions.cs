using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Routing;
using NoKv.Grains.Controller;
using NoKv.Grains.Layout;
using NoKv.Grains.Persistence;
using NoKv.Grains.Placement;
using NoKv.Grains.Raft;
using NoKv.Abstractions.Raft;
using NoKv.Grains.Replica;
using NoKv.Replica;
using NoKv.Grains.Routing;
using NoKv.Grains.Store;
using NoKv.Grains.Telemetry;
using NoKv.Abstractions.Telemetry;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Services;
using Orleans.Storage;

namespace NoKv.Grains.Hosting;

/// <summary>Silo-side registration of NoKV: the store, placement, replicas, and the grain storage provider.</summary>
public static class NoKvSiloBuilderExtensions
{
    /// <summary>
    /// Makes this silo a NoKV store: opens the engine in the silo lifecycle, advertises the store id in silo
    /// metadata for replica placement, and starts this store's replicas once the silo is active.
    /// The store options are read here (the store id must be known to advertise it) and validated at start.
    /// </summary>
    public static ISiloBuilder AddNoKv(this ISiloBuilder builder, Action<NoKvStoreOptions> configureStore, Action<NoKvClusterOptions>? configureCluster = null, Action<ReplicaOptions>? configureReplicas = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configureStore);
        var probe = new NoKvStoreOptions();
        configureStore(probe);

        var services = builder.Services;
        services.AddOptions<NoKvStoreOptions>().Configure(configureStore).ValidateOnStart();
        var cluster = services.AddOptions<NoKvClusterOptions>().ValidateOnStart();
        if (configureCluster is not null)
        {
            cluster.Configure(configureCluster);
        }

        services.AddOptions<NoKvControllerOptions>().ValidateOnStart();
        var replicas = services.AddOptions<ReplicaOptions>().ValidateOnStart();
        if (configureReplicas is not null)
        {
            replicas.Configure(configureReplicas);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NoKvStoreOptions>, NoKvStoreOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NoKvClusterOptions>, NoKvClusterOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NoKvControllerOptions>, NoKvControllerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplicaOptions>, ReplicaOptionsValidator>());

        services.TryAddSingleton<LocalStore>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<LocalStore>());
        services.TryAddSingleton<ClusterLayout>();
        services.TryAddSingleton<StoreDirectory>();
        services.TryAddSingleton<ControllerMembershipFile>();
        services.TryAddSingleton<StoreDirectoryProber>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StoreDirectoryProber>());

        // One limiter for refused Raft batches, shared by every replica of the silo: a peer store on a newer wire
        // version costs one warning a minute, not one per batch of every shard.
        services.TryAddSingleton(_ => new PeerWarningLimiter(TimeProvider.System, TimeSpan.FromMinutes(1)));
        services.TryAddSingleton<LayoutGuard>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<LayoutGuard>());
        services.TryAddSingleton<LocalReplicaRegistry>();
        services.TryAddSingleton<StoreHeartbeatService>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StoreHeartbeatService>());
        services.TryAddSingleton<ReplicaDriver>();
        services.TryAddSingleton<RaftTransport>();
        services.AddSingleton<IGrainService>(static sp => ActivatorUtilities.CreateInstance<RaftTransportService>(sp, RaftTransportIds.Prototype));
        services.TryAddSingleton<ReplicaStarter>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ReplicaStarter>());
        services.AddPlacementDirector<ShardReplicaPlacement, ShardReplicaPlacementDirector>();
        services.AddGrainDirectory(StorePinnedGrainDirectory.Name, static (_, _) => new StorePinnedGrainDirectory());

        // The store's front door for clients (see IStoreService). Registered like AddGrainService does, but under
        // a fixed type code that clients can compute without the silo's type metadata.
        services.AddSingleton<IGrainService>(static sp => ActivatorUtilities.CreateInstance<StoreService>(sp, StoreServiceIds.Prototype));

        // Operators' view of the store (HTTP API, dashboard): active replicas, a per-second load series, a report service.
        services.TryAddSingleton<LocalReplicaRegistry>();
        services.TryAddSingleton<StoreLoadRecorder>();
        services.TryAddSingleton<HotKeyTracker>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StoreLoadRecorder>());
        services.AddSingleton<IGrainService>(static sp => ActivatorUtilities.CreateInstance<StoreStatusService>(sp, StoreStatusServiceIds.Prototype));

        builder.UseSiloMetadata(new Dictionary<string, string>
        {
            [StoreMetadata.StoreIdKey] = probe.StoreId.ToString(CultureInfo.InvariantCulture),
        });
        return builder;
    }

    /// <summary>
    /// Registers a named Orleans grain storage provider backed by this silo's NoKV engine (requires
    /// <see cref="AddNoKv"/>). Options are validated at silo start; errors name the provider.
    /// </summary>
    public static ISiloBuilder AddNoKvGrainStorage(this ISiloBuilder builder, string name, Action<NoKvGrainStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var services = builder.Services;
        var options = services.AddOptions<NoKvGrainStorageOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddTransient<IPostConfigureOptions<NoKvGrainStorageOptions>, DefaultStorageProviderSerializerOptionsConfigurator<NoKvGrainStorageOptions>>();
        services.AddTransient<IConfigurationValidator>(sp => new NoKvGrainStorageOptionsValidator(sp.GetRequiredService<IOptionsMonitor<NoKvGrainStorageOptions>>().Get(name), name));
        services.AddGrainStorage(name, static (sp, n) => new NoKvGrainStorage(n, sp.GetRequiredService<IOptionsMonitor<NoKvGrainStorageOptions>>().Get(n), sp.GetRequiredService<LocalStore>()));
        return builder;
    }
}
