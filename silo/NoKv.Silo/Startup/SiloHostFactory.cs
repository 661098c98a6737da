using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Client.Hosting;
using NoKv.Grains.Controller;
using NoKv.Grains.Hosting;
using NoKv.Resp.Hosting;
using NoKv.Silo.Configuration;
using NoKv.Silo.Http;
using NoKv.Silo.Telemetry;
using NoKv.Silo.Logging;
using NoKv.Silo.Membership;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;

namespace NoKv.Silo.Startup;

/// <summary>Builds the Generic Host of a NoKV silo from validated settings.</summary>
public static class SiloHostFactory
{
    /// <summary>Name of the grain storage provider every NoKV silo registers over its engine.</summary>
    public const string GrainStorageName = "nokv";

    /// <summary>
    /// The host's own switch that keeps its default configuration files from being watched. The silo reads its
    /// configuration once (Program.cs); a watch would only cost: the host watches its content root, the working
    /// directory, recursively, and under deploy/local-cluster.sh that holds data/, so every engine write (each WAL
    /// append and sync, each table written) woke a FileSystemWatcher thread in every silo (9-15% of each silo's CPU
    /// samples under redis-benchmark -t set, 2026-12-06 profile in tests/NoKv.Benchmarks/README.md).
    /// </summary>
    internal const string NoConfigReloadSwitch = "--hostBuilder:reloadConfigOnChange=false";

    public static IHost Build(string[] args, IConfiguration configuration, SiloSettings settings, ClusteringProvider provider)
    {
        args = [NoConfigReloadSwitch, .. args];
        if (settings.Http.Enabled)
        {
            // With an HTTP port the host is a web application (Kestrel on Http:Address:Http:Port only).
            var web = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
            Configure(web, configuration, settings, provider);
            SiloHttp.ConfigureServices(web, settings);
            var app = web.Build();
            SiloHttp.Map(app, settings);
            return app;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, DisableDefaults = false });
        Configure(builder, configuration, settings, provider);
        return builder.Build();
    }

    private static void Configure(IHostApplicationBuilder builder, IConfiguration configuration, SiloSettings settings, ClusteringProvider provider)
    {
        builder.Configuration.AddConfiguration(configuration);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.UseOrleans(silo =>
        {
            ConfigureClustering(silo, settings, provider);
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.EffectiveSiloName);
            silo.AddNoKv(
                store =>
                {
                    store.StoreId = settings.StoreId;
                    store.DataDirectory = settings.EffectiveDataDirectory;
                    if (settings.MemtableSizeBytes is { } memtable)
                    {
                        store.MemtableSizeBytes = memtable;
                    }

                    // Engine pacing (docs/cluster-tail-latency.md); the store's defaults turn it on.
                    store.BackgroundThreadNice = settings.BackgroundThreadNice ?? store.BackgroundThreadNice;
                    store.TableBytesPerSync = settings.TableBytesPerSync ?? store.TableBytesPerSync;
                    store.BackgroundWriteBytesPerSecond = settings.BackgroundWriteBytesPerSecond ?? store.BackgroundWriteBytesPerSecond;
                    store.LogDeleteStepBytes = settings.LogDeleteStepBytes ?? store.LogDeleteStepBytes;
                    store.Compression = settings.Compression ?? store.Compression;
                    store.MemoryBudgetBytes = settings.MemoryBudgetBytes ?? store.MemoryBudgetBytes;
                    if (settings.SlowSyncThresholdMs is { } slowSync)
                    {
                        store.SlowSyncThreshold = TimeSpan.FromMilliseconds(slowSync);
                    }

                    store.SlowDiskControlFile = string.IsNullOrWhiteSpace(settings.Debug.SlowDiskControlFile) ? null : settings.Debug.SlowDiskControlFile;
                },
                cluster =>
                {
                    cluster.Stores = settings.Layout.EffectiveStores;
                    cluster.InitialShards = settings.Layout.InitialShards;
                    cluster.ReplicationFactor = settings.Layout.ReplicationFactor;
                    cluster.SplitKeys = settings.Layout.SplitKeys;
                },
                replicas =>
                {
                    replicas.TickInterval = settings.Replicas.TickInterval;
                    replicas.ElectionTicks = settings.Replicas.ElectionTicks;
                    replicas.HeartbeatTicks = settings.Replicas.HeartbeatTicks;
                    replicas.SnapshotEntries = settings.Replicas.SnapshotEntries;
                    replicas.MaxKeyBytes = settings.Replicas.MaxKeyBytes;
                    replicas.MaxValueBytes = settings.Replicas.MaxValueBytes;
                    replicas.RequestTimeout = settings.Replicas.RequestTimeout;
                    replicas.LeaseReads = settings.Replicas.LeaseReads;
                    replicas.SnapshotChunksInFlight = settings.Replicas.SnapshotChunksInFlight;
                    replicas.SessionTtl = settings.Replicas.SessionTtl;
                    replicas.GcInterval = settings.Replicas.GcInterval;
                    replicas.GcLifetime = settings.Replicas.GcLifetime;
                    replicas.GcSliceKeys = settings.Replicas.GcSliceKeys;
                    replicas.Hibernate = settings.Replicas.Hibernate;
                    replicas.HibernateAfterTicks = settings.Replicas.HibernateAfterTicks;
                });

            // The controller's timing and balancer ("Controller" section: --Controller:AutoSplit false,
            // NOKV_CONTROLLER__SPLITBYTES=...; docs/controller.md "Balancing"). Every silo should use the same values.
            silo.Services.Configure<NoKvControllerOptions>(configuration.GetSection("Controller"));
            silo.AddNoKvGrainStorage(GrainStorageName);
            if (settings.Auth.LoadedKeys() is { } keys)
            {
                silo.AddNoKvAuthentication(o =>
                {
                    o.Keys = keys;
                    o.MaxClockSkew = settings.Auth.MaxClockSkew;
                });
            }

            SiloTelemetry.ConfigureSilo(silo, settings);
        });

        // The Redis-protocol gateway, over an in-silo NoKV client; registered after Orleans so it opens its port once
        // the silo is up and closes it before the silo stops.
        // The in-silo client's own options ("Client" section: --Client:WriteBatching false, --Client:MaxWritesPerBatch 64;
        // docs/resp.md "Write batching"); key and value limits always follow the replicas'.
        builder.Services.Configure<NoKv.Client.NoKvClientOptions>(configuration.GetSection("Client"));
        builder.Services.AddNoKvClient(o =>
        {
            o.MaxKeyBytes = settings.Replicas.MaxKeyBytes;
            o.MaxValueBytes = settings.Replicas.MaxValueBytes;
        });
        builder.Services.AddNoKvResp(o =>
        {
            o.Enabled = settings.Resp.Enabled;
            o.BindAddress = settings.Resp.BindAddress;
            o.Port = settings.Resp.EffectivePort(settings.StoreId);
            o.Password = settings.Resp.Password;
            o.MaxConnections = settings.Resp.MaxConnections;
            o.MaxKeyBytes = settings.Replicas.MaxKeyBytes;

            // Oversized values up to twice the limit get the store's clear "value too large" error on a live connection;
            // beyond that the request is a protocol error and the connection closes (as redis-server does past its limit).
            o.MaxBulkBytes = Math.Max(o.MaxBulkBytes, 2 * Math.Max(settings.Replicas.MaxValueBytes, settings.Replicas.MaxKeyBytes));
            o.MaxRequestBytes = Math.Max(o.MaxRequestBytes, o.MaxBulkBytes);
        });

        // After Orleans, so the peer status reporter (a hosted service) starts once the silo does.
        ConsoleLogging.Configure(builder.Logging, Enum.Parse<LogFormat>(settings.LogFormat, ignoreCase: true));

        SiloTelemetry.Configure(builder, settings);
    }

    private static void ConfigureClustering(ISiloBuilder silo, SiloSettings settings, ClusteringProvider provider)
    {
        switch (provider)
        {
            case ClusteringProvider.Localhost:
                IPEndPoint? primary = string.IsNullOrWhiteSpace(settings.Clustering.PrimarySiloEndpoint) ? null : IPEndPoint.Parse(settings.Clustering.PrimarySiloEndpoint);
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, primary, settings.ServiceId, settings.ClusterId);
                break;
            case ClusteringProvider.File:
                silo.UseFileClustering(settings.EffectiveMembershipDirectory);
                ConfigureEndpoints(silo, settings, IPAddress.Loopback);

                // Reading the table is a local file read, so re-read it often: a conditional write Orleans lost to a
                // concurrent one (several stores restarting at once, each marking its old incarnation dead) is only
                // retried on the next refresh, and until then the stale row keeps joining silos waiting.
                silo.Configure<ClusterMembershipOptions>(o => o.TableRefreshTimeout = TimeSpan.FromSeconds(5));
                break;
            case ClusteringProvider.Redis:
                silo.UseRedisClustering(settings.Clustering.ConnectionString!);
                ConfigureEndpoints(silo, settings);
                break;
            case ClusteringProvider.AdoNet:
                DbProviderFactories.RegisterFactory("Npgsql", NpgsqlFactory.Instance);
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = settings.Clustering.ConnectionString;
                });
                ConfigureEndpoints(silo, settings);
                break;
            default:
                throw new StartupError(StartupError.InvalidConfiguration, $"Unknown clustering provider {provider}.");
        }
    }

    private static void ConfigureEndpoints(ISiloBuilder silo, SiloSettings settings, IPAddress? defaultAddress = null)
    {
        silo.Configure<EndpointOptions>(o =>
        {
            o.SiloPort = settings.SiloPort;
            o.GatewayPort = settings.GatewayPort;
            if (!string.IsNullOrWhiteSpace(settings.AdvertisedAddress))
            {
                o.AdvertisedIPAddress = IPAddress.Parse(settings.AdvertisedAddress);
            }
            else if (defaultAddress is not null)
            {
                o.AdvertisedIPAddress = defaultAddress;
            }

            // Without these Orleans listens on the advertised address (one interface) already; an explicit listen
            // address is for hosts where that address is not local (NAT, containers).
            if (!string.IsNullOrWhiteSpace(settings.ListenAddress))
            {
                var listen = IPAddress.Parse(settings.ListenAddress);
                o.SiloListeningEndpoint = new IPEndPoint(listen, settings.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, settings.GatewayPort);
            }
        });
    }
}
