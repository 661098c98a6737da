using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Security;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.Client.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace NoKv.Cli.Commands;

/// <summary>An Orleans client host connected to the cluster named by the common options. Dispose to disconnect.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host) => _host = host;

    public IKvStore Store => _host.Services.GetRequiredService<IKvStore>();

    public INoKvAdmin Admin => _host.Services.GetRequiredService<INoKvAdmin>();

    public NoKv.Client.Locks.ILockService Locks => _host.Services.GetRequiredService<NoKv.Client.Locks.ILockService>();

    public static async Task<ClusterConnection> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var gateways = CliOptions.ParseGateways(parse.GetValue(CliOptions.Gateways)!);
        string clusterId = parse.GetValue(CliOptions.ClusterId)!;
        var timeout = TimeSpan.FromSeconds(parse.GetValue(CliOptions.TimeoutSeconds));
        NoKvKeyRing? keys;
        try
        {
            string? keyFile = parse.GetValue(CliOptions.AuthKeyFile);
            keys = keyFile is not null ? NoKvKeyRing.Load(keyFile) : NoKvClientAuthentication.FromEnvironment();
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the authentication key: {e.Message}", "invalid");
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(gateways);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
        });
        builder.Services.AddNoKvClient(o =>
        {
            o.OperationTimeout = timeout;
            o.AttemptTimeout = timeout < NoKvClientOptions.DefaultAttemptTimeout ? timeout : NoKvClientOptions.DefaultAttemptTimeout;
        });
        if (keys is not null)
        {
            builder.Services.AddNoKvClientAuthentication(keys);
        }

        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new CliException($"cannot connect to the cluster '{clusterId}' at {string.Join(", ", gateways.Select(g => g.ToString()))}: {e.Message}", "unavailable");
        }

        return new ClusterConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
