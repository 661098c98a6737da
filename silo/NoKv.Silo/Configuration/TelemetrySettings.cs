namespace NoKv.Silo.Configuration;

/// <summary>OpenTelemetry exporters and the Orleans dashboard (docs/telemetry.md).</summary>
public sealed class TelemetrySettings
{
    /// <summary>Serve Prometheus text at <c>/metrics</c> on the HTTP port (needs <see cref="HttpSettings.Port"/>).</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>OTLP collector endpoint (--otlp-endpoint, e.g. http://127.0.0.1:4317); empty exports nothing over OTLP.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>OTLP transport: Grpc (default) or HttpProtobuf.</summary>
    public string OtlpProtocol { get; set; } = "Grpc";

    /// <summary>
    /// Record traces (client call -> store service -> replica -> Raft commit) and carry trace context across Orleans
    /// calls. On by default only when an OTLP endpoint is set: propagation adds a grain call filter to every call.
    /// </summary>
    public bool? Tracing { get; set; }

    /// <summary>
    /// Fraction of requests arriving without a sampled trace that the silo traces itself. Requests from a client that
    /// traces (and samples) are always followed; 0 (the default) records nothing else, so Raft traffic, timers and
    /// untraced clients cost no spans.
    /// </summary>
    public double TraceSampleRatio { get; set; }

    /// <summary>Serve the Orleans dashboard at <c>/orleans</c> on the HTTP port (it profiles every grain call; off by default).</summary>
    public bool OrleansDashboard { get; set; }

    public bool EffectiveTracing => Tracing ?? !string.IsNullOrWhiteSpace(OtlpEndpoint);
}
