using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoKv.Grains.Layout;
using NoKv.Grains.Store;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.Silo.Configuration;
using NoKv.Silo.Startup;
using Xunit;

namespace NoKv.IntegrationTests.Silo;

/// <summary>Operator mistakes fail the silo's start with one clear message and a documented exit code.</summary>
public sealed class SiloStartupTests : IDisposable
{
    private readonly StartupScratch _scratch = new("startup");

    [Fact]
    public void UnknownClusteringProviderIsAConfigurationError()
    {
        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s => s.Clustering.Provider = "Zookeeper")));
        Assert.Equal(StartupError.InvalidConfiguration, error.ExitCode);
        Assert.Contains("Unknown clustering provider 'Zookeeper'", error.Message);
        Assert.Contains("Localhost, Redis, AdoNet", error.Message);
    }

    [Fact]
    public void MissingStoreIdAndConnectionStringAreConfigurationErrors()
    {
        Assert.Equal(StartupError.InvalidConfiguration, Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s => s.StoreId = 0))).ExitCode);
        var redis = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s => s.Clustering.Provider = "redis")));
        Assert.Contains("ConnectionString", redis.Message);
    }

    [Theory]
    [InlineData("AdvertisedAddress")]
    [InlineData("ListenAddress")]
    public void AHostNameWhereAnAddressBelongsIsAConfigurationError(string setting)
    {
        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s =>
        {
            if (setting == "AdvertisedAddress")
            {
                s.AdvertisedAddress = "silo1.internal";
            }
            else
            {
                s.ListenAddress = "silo1.internal";
            }
        })));
        Assert.Equal(StartupError.InvalidConfiguration, error.ExitCode);
        Assert.Contains($"{setting} 'silo1.internal' is not an IP address", error.Message);
    }

    [Fact]
    public void ListenAddressBindsBothPortsThereWhileTheAdvertisedAddressStays()
    {
        var settings = Settings(s =>
        {
            s.AdvertisedAddress = "10.1.2.3";
            s.ListenAddress = "127.0.0.2";
            s.Clustering.Provider = "File";
        });
        using var host = SiloHostFactory.Build([], new ConfigurationBuilder().Build(), settings, ClusteringProvider.File);
        var endpoints = host.Services.GetRequiredService<IOptions<Orleans.Configuration.EndpointOptions>>().Value;
        Assert.Equal(IPAddress.Parse("10.1.2.3"), endpoints.AdvertisedIPAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), settings.SiloPort), endpoints.SiloListeningEndpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), settings.GatewayPort), endpoints.GatewayListeningEndpoint);

        // Unset, Orleans listens on the advertised address only (one interface, not all of them).
        using var plain = SiloHostFactory.Build([], new ConfigurationBuilder().Build(), Settings(s => s.AdvertisedAddress = "10.1.2.3"), ClusteringProvider.File);
        var defaults = plain.Services.GetRequiredService<IOptions<Orleans.Configuration.EndpointOptions>>().Value;
        Assert.Null(defaults.SiloListeningEndpoint);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), defaults.AdvertisedIPAddress);
    }

    [Fact]
    public void AMissingConfigFileIsAConfigurationError()
    {
        Assert.Null(SettingsFile.Find(["--store-id", "1"]));
        var error = Assert.Throws<StartupError>(() => SettingsFile.Find(["--config", Path.Combine(_scratch.Root, "missing.json")]));
        Assert.Equal(StartupError.InvalidConfiguration, error.ExitCode);
        Assert.Contains("missing.json", error.Message);
        Assert.Throws<StartupError>(() => SettingsFile.Find(["--store-id", "1", "--config"]));
        string file = Path.Combine(_scratch.Root, "nokv.json");
        File.WriteAllText(file, "{}");
        Assert.Equal(file, SettingsFile.Find([$"--config={file}"]));
    }

    [Fact]
    public void PortInUseIsReportedWithTheSetting()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s => s.GatewayPort = port)));
        Assert.Equal(StartupError.PortInUse, error.ExitCode);
        Assert.Contains($"GatewayPort {port}", error.Message);
    }

    [Fact]
    public void UnusableDataDirectoryIsReported()
    {
        string file = Path.Combine(_scratch.Root, "not-a-directory");
        File.WriteAllText(file, "x");
        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s => s.DataDirectory = Path.Combine(file, "data"))));
        Assert.Equal(StartupError.StoreUnusable, error.ExitCode);
        Assert.Contains("not writable", error.Message);
    }

    [Fact]
    public async Task DataDirectoryOfAnotherStoreIsRefused()
    {
        string dir = Path.Combine(_scratch.Root, "store");
        var first = new LocalStore(Options.Create(new NoKvStoreOptions { StoreId = 1, DataDirectory = dir }), NullLogger<LocalStore>.Instance);
        await first.OpenAsync(CancellationToken.None);
        await first.CloseAsync(CancellationToken.None);

        var second = new LocalStore(Options.Create(new NoKvStoreOptions { StoreId = 2, DataDirectory = dir }), NullLogger<LocalStore>.Instance);
        var error = await Assert.ThrowsAsync<StoreStartupException>(() => second.OpenAsync(CancellationToken.None));
        Assert.Contains("belongs to store 1", error.Message);

        // The host reports it as one line, even when the runtime wraps it.
        var described = StartupFailure.Describe(new AggregateException(new InvalidOperationException("lifecycle", error)));
        Assert.NotNull(described);
        Assert.Equal(StartupError.StoreUnusable, described.ExitCode);
    }

    [Fact]
    public async Task ChangedClusterLayoutIsRefused()
    {
        string dir = Path.Combine(_scratch.Root, "layout");
        var store = new LocalStore(Options.Create(new NoKvStoreOptions { StoreId = 1, DataDirectory = dir }), NullLogger<LocalStore>.Instance);
        await store.OpenAsync(CancellationToken.None);
        try
        {
            await new LayoutGuard(store, new ClusterLayout(Options.Create(new NoKvClusterOptions { InitialShards = 4 }))).CheckAsync(CancellationToken.None);
            await new LayoutGuard(store, new ClusterLayout(Options.Create(new NoKvClusterOptions { InitialShards = 4 }))).CheckAsync(CancellationToken.None);
            var error = await Assert.ThrowsAsync<StoreStartupException>(() =>
                new LayoutGuard(store, new ClusterLayout(Options.Create(new NoKvClusterOptions { InitialShards = 8 }))).CheckAsync(CancellationToken.None));
            Assert.Contains("shards=4", error.Message);
            Assert.Contains("shards=8", error.Message);
        }
        finally
        {
            await store.CloseAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void SettingsBindFromCommandLineAndReplaceTheDefaultStoreList()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddCommandLine(["--store-id", "5", "--clustering", "Redis", "--Layout:Stores:0", "4", "--Layout:Stores:1", "5", "--Layout:Stores:2", "6"], CommandLineSwitches.Map)
            .Build();
        var settings = new SiloSettings();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration, settings);
        Assert.Equal(5, settings.StoreId);
        Assert.Equal("Redis", settings.Clustering.Provider);
        Assert.Equal([4, 5, 6], settings.Layout.EffectiveStores);
        Assert.Equal([1, 2, 3], new SiloSettings().Layout.EffectiveStores);
        Assert.Equal("store-5", settings.EffectiveSiloName);
    }

    [Fact]
    public void EnginePacingSettingsReachTheStoreAndUnsetOnesKeepItsDefaults()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["BackgroundWriteBytesPerSecond"] = "0",
                ["LogDeleteStepBytes"] = "1048576",
            })
            .Build();
        var settings = Settings(_ => { });
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration, settings);

        using var host = SiloHostFactory.Build([], configuration, settings, ClusteringProvider.Localhost);
        var store = host.Services.GetRequiredService<IOptions<NoKvStoreOptions>>().Value;

        Assert.Equal(0, store.BackgroundWriteBytesPerSecond);
        Assert.Equal(1L << 20, store.LogDeleteStepBytes);
        var defaults = new NoKvStoreOptions();
        Assert.Equal(defaults.BackgroundThreadNice, store.BackgroundThreadNice);
        Assert.Equal(defaults.TableBytesPerSync, store.TableBytesPerSync);
    }

    [Fact]
    public void TheHostWatchesNoConfigurationFile()
    {
        // The host's default configuration files were watched recursively from the working directory, which holds the
        // data under deploy/local-cluster.sh: every engine write woke a FileSystemWatcher in every silo.
        foreach (int httpPort in new[] { 0, SiloProcess.FreePort() })
        {
            var configuration = new ConfigurationBuilder().Build();
            var settings = Settings(s => s.Http.Port = httpPort);

            using var host = SiloHostFactory.Build([], configuration, settings, ClusteringProvider.Localhost);
            var root = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
            var files = root.Providers.OfType<FileConfigurationProvider>().ToList();
            Assert.NotEmpty(files);
            Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is watched (HTTP port {httpPort})"));
        }
    }

    private SiloSettings Settings(Action<SiloSettings> change) => _scratch.Settings(change);

    public void Dispose() => _scratch.Dispose();
}
