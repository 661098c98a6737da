using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NoKv.Resp.Server;

namespace NoKv.Resp.Hosting;

/// <summary>Registers the Redis-protocol gateway as a hosted service over the NoKV client already in the container.</summary>
public static class RespServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway (<see cref="RespServer"/>, started and stopped with the host). Requires
    /// <c>IKvStore</c> (AddNoKvClient). Invalid options fail the host's start with a message naming the setting.
    /// </summary>
    public static IServiceCollection AddNoKvResp(this IServiceCollection services, Action<RespOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RespOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RespOptions>, RespOptionsValidator>());
        services.TryAddSingleton<RespServer>();
        services.AddHostedService(sp => sp.GetRequiredService<RespServer>());
        return services;
    }
}
