using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace NoKv.Client.Diagnostics;

/// <summary>
/// The client SDK's instruments: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>, with no OpenTelemetry dependency (the application's OpenTelemetry setup subscribes with
/// <c>AddMeter("NoKv.Client")</c> and <c>AddSource("NoKv.Client")</c>). Each operation (Put, Get, Scan page, ...)
/// is one span; Orleans' activity propagation carries it into the silo, where the replica's spans become its
/// children. Names, units and attributes: docs/telemetry.md.
/// </summary>
public static class ClientTelemetry
{
    public const string Name = "NoKv.Client";

    public static readonly Meter Meter = new(Name);

    public static readonly ActivitySource Source = new(Name);

    /// <summary>Completed operations by operation and result (ok, or the error code that ended it).</summary>
    public static readonly Counter<long> Operations = Meter.CreateCounter<long>("nokv.client.operations", "{operation}", "Client operations completed, by operation and result");

    /// <summary>Operation latency including retries and backoff.</summary>
    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("nokv.client.operation.duration", "s", "Client operation latency including retries, by operation", tags: null, advice: new InstrumentAdvice<double>
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });

    /// <summary>Attempts that failed and were retried, by operation and the reason code.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("nokv.client.retries", "{retry}", "Failed attempts the client retried, by operation and reason");

    /// <summary>Operations that ended in an error, by operation and error code.</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("nokv.client.errors", "{error}", "Client operations that failed, by operation and error code");
}
