using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using NoKv.Grains.Placement;
using NoKv.Silo.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime;

namespace NoKv.Silo.Http;

/// <summary>
/// The silo's HTTP port (docs/dashboard.md): the JSON API under /api/, Prometheus text at /metrics, the dashboard's
/// static files at /, and the Orleans dashboard at /orleans when switched on. Kestrel listens on the configured
/// address and port only.
/// </summary>
public static class SiloHttp
{
    /// <summary>camelCase JSON, as documented.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void ConfigureServices(WebApplicationBuilder builder, SiloSettings settings)
    {
        var address = IPAddress.Parse(settings.Http.Address);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, settings.Http.Port);
            k.AddServerHeader = false;
        });
        builder.Services.AddSingleton(sp => new ClusterOverview(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IClusterMembershipService>(),
            sp.GetRequiredService<StoreDirectory>(),
            sp.GetRequiredService<ILocalSiloDetails>(),
            settings.ClusterId));
    }

    public static void Map(WebApplication app, SiloSettings settings)
    {
        if (settings.Http.Dashboard)
        {
            var files = new PhysicalFileProvider(settings.Http.EffectiveFrontendDirectory);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,

                // The dashboard is small and changes with the build; always revalidate so an upgrade shows at once.
                OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
            });
        }

        if (settings.Telemetry.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }

        if (settings.Telemetry.OrleansDashboard)
        {
            app.MapOrleansDashboard("/orleans");
        }

        var api = app.MapGroup("/api");
        api.MapGet("/overview", async (ClusterOverview o, CancellationToken ct) => Results.Json(await o.GetAsync(ct), Json));
        api.MapGet("/cluster", async (ClusterOverview o, CancellationToken ct) =>
        {
            var v = await o.GetAsync(ct);
            return Results.Json(new { v.ClusterId, v.UnixMs, v.ServedBy, v.Totals, v.Controller }, Json);
        });
        api.MapGet("/stores", async (ClusterOverview o, CancellationToken ct) => Results.Json((await o.GetAsync(ct)).Stores, Json));
        api.MapGet("/shards", async (ClusterOverview o, CancellationToken ct) => Results.Json((await o.GetAsync(ct)).Shards, Json));
        api.MapGet("/events", async (ClusterOverview o, long? since, CancellationToken ct) =>
        {
            var events = (await o.GetAsync(ct)).Events;
            return Results.Json(since is { } s ? events.Where(e => e.UnixMs > s).ToList() : events, Json);
        });
        api.MapGet("/series", async (ClusterOverview o, CancellationToken ct) =>
        {
            var v = await o.GetAsync(ct);
            return Results.Json(new { Cluster = v.Series, Stores = v.Stores.Select(s => new { s.Id, s.Series }) }, Json);
        });
        api.MapGet("/controller", async (ClusterOverview o, CancellationToken ct) => Results.Json((await o.GetAsync(ct)).Controller, Json));
        api.MapFallback(() => Results.Json(new { error = "unknown API path; see docs/dashboard.md" }, Json, statusCode: StatusCodes.Status404NotFound));
    }
}
