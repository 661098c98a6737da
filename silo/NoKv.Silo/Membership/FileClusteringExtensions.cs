using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Messaging;

namespace NoKv.Silo.Membership;

/// <summary>Registers the file membership table on a silo, or its gateway list on a client.</summary>
public static class FileClusteringExtensions
{
    public static ISiloBuilder UseFileClustering(this ISiloBuilder silo, string directory) =>
        silo.ConfigureServices(services =>
        {
            services.Configure<FileMembershipOptions>(o => o.Directory = directory);
            services.AddSingleton<IMembershipTable, FileMembershipTable>();
        });

    public static IClientBuilder UseFileClustering(this IClientBuilder client, string directory) =>
        client.ConfigureServices(services =>
        {
            services.Configure<FileMembershipOptions>(o => o.Directory = directory);
            services.AddSingleton<IGatewayListProvider, FileGatewayListProvider>();
        });
}
