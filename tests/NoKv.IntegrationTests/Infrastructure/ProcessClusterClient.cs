using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoKv.Client.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>An SDK client host for clusters of real silo processes (<see cref="SiloProcess"/>).</summary>
public static class ProcessClusterClient
{
    /// <summary>
    /// Builds and starts a client of cluster <paramref name="clusterId"/>; the silos take a few seconds to open their
    /// gateways, so connecting is retried until a 60 s deadline.
    /// </summary>
    /// <param name="services">Extra registrations, e.g. AddNoKvClientAuthentication.</param>
    public static async Task<IHost> ConnectAsync(string clusterId, Action<IClientBuilder> clustering, TimeSpan operationTimeout, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            clustering(client);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
        });
        builder.Services.AddNoKvClient(o => o.OperationTimeout = operationTimeout);
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    await host.StartAsync();
                    return true;
                }
                catch (Exception)
                {
                    await host.StopAsync();
                    throw;
                }
            },
            started => started,
            TimeSpan.FromSeconds(60),
            "the client to connect to the silo processes");
        return host;
    }
}
