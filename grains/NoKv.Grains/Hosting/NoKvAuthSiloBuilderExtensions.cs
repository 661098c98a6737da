using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Security;
using NoKv.Grains.Security;
using NoKv.Grains.Store;
using Orleans.Hosting;

namespace NoKv.Grains.Hosting;

/// <summary>Silo-side registration of client authentication (docs/security.md).</summary>
public static class NoKvAuthSiloBuilderExtensions
{
    /// <summary>
    /// Requires a valid token on every call to a NoKV interface (<see cref="AuthCheckFilter"/>) and signs this silo's
    /// own such calls with the first key of <see cref="NoKvAuthOptions.Keys"/>. Not calling it leaves the silo open and
    /// adds no filter at all, so an unauthenticated cluster pays nothing. Every silo of a cluster must agree: a silo
    /// without it sends Raft messages with no token, which silos with it refuse.
    /// </summary>
    public static ISiloBuilder AddNoKvAuthentication(this ISiloBuilder builder, Action<NoKvAuthOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.AddOptions<NoKvAuthOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NoKvAuthOptions>, NoKvAuthOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<NoKvAuthOptions>>().Value;
            var keys = options.Keys ?? throw new InvalidOperationException("NoKV authentication: Keys must be set.");
            string principal = options.Principal ?? $"silo:store-{sp.GetRequiredService<IOptions<NoKvStoreOptions>>().Value.StoreId}";
            return new AuthTokenIssuer(keys.Primary, principal, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutgoingGrainCallFilter, AuthTokenStampingFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIncomingGrainCallFilter, AuthCheckFilter>());
        return builder;
    }
}
