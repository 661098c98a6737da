using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Replica.Diagnostics;
using NoKv.Silo.Configuration;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Hosting;

namespace NoKv.Silo.Telemetry;

/// <summary>
/// The silo's OpenTelemetry setup (docs/telemetry.md): the engine's, the replicas' and Orleans' meters; traces from the
/// replica core and Orleans when tracing is on; exporters as configured (Prometheus on the HTTP port, OTLP to a
/// collector). The production libraries only create Meters and ActivitySources; this is the one place that subscribes.
/// </summary>
public static class SiloTelemetry
{
    /// <summary>Meters the silo exports.</summary>
    public static readonly string[] Meters = ["NoKv.Storage", ReplicaTelemetry.Name, "Microsoft.Orleans"];

    /// <summary>Activity sources the silo records when tracing is on (Orleans' own spans of grain calls included).</summary>
    public static readonly string[] Sources = [ReplicaTelemetry.Name, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    public static void Configure(IHostApplicationBuilder builder, SiloSettings settings)
    {
        var telemetry = settings.Telemetry;
        bool otlp = !string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint);
        var protocol = Enum.Parse<OtlpExportProtocol>(telemetry.OtlpProtocol, ignoreCase: true);
        void Otlp(OtlpExporterOptions o)
        {
            o.Endpoint = new Uri(telemetry.OtlpEndpoint!);
            o.Protocol = protocol;
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("nokv-silo", serviceInstanceId: settings.EffectiveSiloName).AddAttributes([new("nokv.store", settings.StoreId)]))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters);
                if (telemetry.Prometheus && settings.Http.Enabled)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter(Otlp);
                }
            });

        if (telemetry.EffectiveTracing)
        {
            otel.WithTracing(tracing =>
            {
                tracing.AddSource(Sources);
                tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(telemetry.TraceSampleRatio)));
                if (otlp)
                {
                    tracing.AddOtlpExporter(Otlp);
                }
            });
        }
    }

    /// <summary>Orleans-side switches: trace context across grain calls when tracing, the Orleans dashboard when asked.</summary>
    public static void ConfigureSilo(ISiloBuilder silo, SiloSettings settings)
    {
        if (settings.Telemetry.EffectiveTracing)
        {
            silo.AddActivityPropagation();
        }

        if (settings.Telemetry.OrleansDashboard)
        {
            Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo);
        }
    }
}
