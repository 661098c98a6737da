using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NoKv.Client.Admin;
using NoKv.Client.Locks;
using NoKv.Client.Timestamps;

namespace NoKv.Client.Hosting;

/// <summary>Registers the NoKV client on top of an Orleans client (or silo) already in the container.</summary>
public static class NoKvClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IKvStore"/>, <see cref="ILockService"/> (the same client), <see cref="INoKvAdmin"/> and <see cref="ITimestampSource"/>. Requires <c>IGrainFactory</c>, which
    /// <c>UseOrleansClient</c> (or a co-hosted silo) provides. Options are validated on first use; an invalid
    /// value fails with a message naming it.
    /// </summary>
    public static IServiceCollection AddNoKvClient(this IServiceCollection services, Action<NoKvClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<NoKvClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NoKvClientOptions>, NoKvClientOptionsValidator>());
        services.TryAddSingleton<KvStore>();
        services.TryAddSingleton<IKvStore>(static sp => sp.GetRequiredService<KvStore>());
        services.TryAddSingleton<ILockService>(static sp => sp.GetRequiredService<KvStore>());
        services.TryAddSingleton<INoKvAdmin, NoKvAdmin>();
        services.TryAddSingleton<ITimestampSource, TimestampSource>();
        return services;
    }
}
