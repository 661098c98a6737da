using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Security;
using NoKv.Client.Admin;
using NoKv.Client.Locks;
using NoKv.Client.Timestamps;
using Orleans.Configuration;

namespace NoKv.Client.Hosting;

/// <summary>Registers the NoKV client on top of an Orleans client (or silo) already in the container.</summary>
public static class NoKvClientServiceCollectionExtensions
{
    private static readonly TimeSpan OrleansDefaultGatewayListRefreshPeriod = new GatewayOptions().GatewayListRefreshPeriod;

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

        // Orleans re-reads its gateway list once a minute by default, and a gateway it found dead comes back into use
        // only at such a read: until then the client keeps direct routes to it quarantined (StoreRoutes.Quarantine,
        // about two periods), and that store's requests go through whichever gateway Orleans picks per grain, so the
        // next silo to die takes in-flight requests of healthy shards down with it. Only Orleans' own default is
        // replaced: a period the application set stays.
        services.PostConfigure<GatewayOptions>(static o =>
        {
            if (o.GatewayListRefreshPeriod == OrleansDefaultGatewayListRefreshPeriod)
            {
                o.GatewayListRefreshPeriod = NoKvClientOptions.DefaultGatewayListRefreshPeriod;
            }
        });
        return services;
    }

    /// <summary>
    /// Makes every call this client sends to the cluster carry a token signed with the first key of
    /// <paramref name="keys"/> (docs/security.md); needed when the silos run with authentication on, harmless otherwise.
    /// A silo refusing a call fails it with <see cref="NoKv.Abstractions.Errors.UnauthenticatedException"/>, which is
    /// final: operations do not retry it.
    /// </summary>
    /// <param name="principal">The name the silos log for this client (1-64 of A-Z a-z 0-9 _ - : @); by default "client:" and the machine name.</param>
    public static IServiceCollection AddNoKvClientAuthentication(this IServiceCollection services, NoKvKeyRing keys, string? principal = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(keys);
        var issuer = new AuthTokenIssuer(keys.Primary, principal ?? NoKvClientAuthentication.DefaultPrincipal(), TimeProvider.System);
        services.TryAddSingleton(issuer);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Orleans.IOutgoingGrainCallFilter, AuthTokenStampingFilter>());
        return services;
    }
}
