using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Grains;
using NoKv.Benchmarks.Common;
using NoKv.Client.Timestamps;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `tso` subcommand: the controller's timestamp oracle on 3 local silo processes. Closed-loop callers at
/// concurrency 1, 16 and 64, two ways: through the client's <see cref="ITimestampSource"/> (which batches concurrent
/// callers into one grain call) and with one grain call per timestamp (only the silo's oracle coalesces). Every
/// timestamp is one Raft commit of the controller group per batch (docs/controller.md); prints timestamps/s and
/// latency percentiles, and checks each caller's timestamps strictly increase.
/// </summary>
public static class TimestampBenchmark
{
    private static readonly int[] Concurrencies = [1, 16, 64];

    public static async Task<int> RunAsync(bool quick, CancellationToken cancellationToken)
    {
        var duration = quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5);
        Console.Error.WriteLine("[tso] starting 3 silos");
        await using var cluster = await NoKvLocalCluster.StartAsync([], TimeSpan.FromSeconds(120), Console.Error, cancellationToken).ConfigureAwait(false);
        await using var target = await NoKvClusterTarget.ConnectAsync(cluster.ClusterId, cluster.Gateways, cluster.Silos.Select(s => s.ProcessId).ToArray(), cancellationToken).ConfigureAwait(false);
        await target.WaitUntilServingAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(15), Console.Error, cancellationToken).ConfigureAwait(false);
        var source = target.Services.GetRequiredService<ITimestampSource>();
        var grain = target.Services.GetRequiredService<IGrainFactory>().GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster);
        Func<ValueTask<long>> batched = () => source.GetTimestampAsync(cancellationToken);
        Func<ValueTask<long>> perCall = async () => (await grain.GetTimestampsAsync(1).ConfigureAwait(false)).First;

        // Warm-up: activations, JIT, the controller leader settling on its preferred store.
        await MeasureAsync(batched, 16, TimeSpan.FromSeconds(quick ? 1 : 3), cancellationToken).ConfigureAwait(false);
        foreach (var (name, call) in new[] { ("client-batched", batched), ("grain-per-call", perCall) })
        {
            foreach (int concurrency in Concurrencies)
            {
                var (count, elapsed, histogram) = await MeasureAsync(call, concurrency, duration, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"tso {name,-15} c{concurrency,-3} {count / elapsed.TotalSeconds,10:N0} timestamps/s  p50 {histogram.Quantile(0.5) / 1e6,6:F2} ms  p99 {histogram.Quantile(0.99) / 1e6,6:F2} ms  max {histogram.MaxNanoseconds / 1e6,7:F2} ms"));
            }
        }

        return 0;
    }

    private static async Task<(long Count, TimeSpan Elapsed, LatencyHistogram Histogram)> MeasureAsync(Func<ValueTask<long>> call, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var histograms = new LatencyHistogram[concurrency];
        var start = Stopwatch.GetTimestamp();
        long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var callers = new Task[concurrency];
        for (int c = 0; c < concurrency; c++)
        {
            var histogram = histograms[c] = new LatencyHistogram();
            callers[c] = Task.Run(async () =>
            {
                long last = 0;
                while (Stopwatch.GetTimestamp() < end)
                {
                    long before = Stopwatch.GetTimestamp();
                    long timestamp = await call().ConfigureAwait(false);
                    histogram.Record((long)(Stopwatch.GetElapsedTime(before).TotalMilliseconds * 1e6));
                    if (timestamp <= last)
                    {
                        throw new InvalidOperationException($"timestamp {timestamp} after {last} on one caller");
                    }

                    last = timestamp;
                }
            }, cancellationToken);
        }

        await Task.WhenAll(callers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var all = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            all.Add(histogram);
        }

        return (all.Count, elapsed, all);
    }
}
