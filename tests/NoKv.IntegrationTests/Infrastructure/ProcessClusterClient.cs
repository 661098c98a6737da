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
        IHost? connected = null;
        await Eventually.WaitAsync(
            async () =>
            {
                // A new host per attempt: a host whose start failed has been stopped, and a stopped host's next start
                // is cancelled at once, so retrying the same host fails until the deadline however soon the silos open.
                var host = Build(clusterId, clustering, operationTimeout, services);
                try
                {
                    // Within the probe's own bound, so an abandoned attempt never connects later behind our back.
                    using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(8));
                    await host.StartAsync(attempt.Token);
                    connected = host;
                    return true;
                }
                catch (Exception)
                {
                    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    try
                    {
                        await host.StopAsync(stop.Token);
                    }
                    catch (Exception)
                    {
                        // It never started: nothing to stop cleanly.
                    }

                    host.Dispose();
                    throw;
                }
            },
            started => started,
            TimeSpan.FromSeconds(60),
            "the client to connect to the silo processes");
        return connected!;
    }

    private static IHost Build(string clusterId, Action<IClientBuilder> clustering, TimeSpan operationTimeout, Action<IServiceCollection>? services)
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
        return builder.Build();
    }
}
