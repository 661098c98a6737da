using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Sharding;
using NoKv.Benchmarks.Common;
using NoKv.Client;
using NoKv.Client.Admin;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `split` subcommand (issue 11's "throughput and p99 by second during a split"): 3 local silos with one shard and
/// the balancer's automatic split off, the shard loaded, then closed-loop clients (half gets, half puts of 1 KiB on the
/// loaded keys) for a steady stretch, a split at the middle key by size through the controller, and the same load
/// after it. Prints completed operations and p99 per second with the split's start and end marked, and checks the
/// targets: no second without completed operations, and no second's p99 above 3x the steady p99.
/// </summary>
public static class SplitBenchmark
{
    private const int ValueBytes = 1024;

    public static async Task<int> RunAsync(bool quick, CancellationToken cancellationToken)
    {
        int keys = quick ? 20_000 : 100_000;
        int concurrency = 16;
        var steady = TimeSpan.FromSeconds(quick ? 5 : 10);
        var after = TimeSpan.FromSeconds(quick ? 5 : 10);
        Console.Error.WriteLine("[split] starting 3 silos (one shard, automatic split off)");
        await using var cluster = await NoKvLocalCluster.StartAsync([], TimeSpan.FromSeconds(120), Console.Error, cancellationToken, ["--Controller:AutoSplit", "false"]).ConfigureAwait(false);
        await using var target = await NoKvClusterTarget.ConnectAsync(cluster.ClusterId, cluster.Gateways, cluster.Silos.Select(s => s.ProcessId).ToArray(), cancellationToken).ConfigureAwait(false);
        await target.WaitUntilServingAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(15), Console.Error, cancellationToken).ConfigureAwait(false);
        var store = target.Services.GetRequiredService<IKvStore>();
        var admin = target.Services.GetRequiredService<INoKvAdmin>();

        var value = new byte[ValueBytes];
        new Random(1).NextBytes(value);
        var load = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, keys), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
            await store.PutAsync(Key(i), value, ct).ConfigureAwait(false)).ConfigureAwait(false);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[split] loaded {keys} keys of {ValueBytes} bytes in {load.Elapsed.TotalSeconds:F1} s"));

        var seconds = new List<(long Ops, long Errors, LatencyHistogram Histogram)>();
        var gate = new object();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
        {
            var random = new Random(c + 11);
            while (!stop.IsCancellationRequested)
            {
                long before = Stopwatch.GetTimestamp();
                bool failed = false;
                try
                {
                    byte[] key = Key(random.Next(keys));
                    if (random.Next(2) == 0)
                    {
                        await store.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await store.PutAsync(key, value, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failed = true;
                }

                long nanos = (long)(Stopwatch.GetElapsedTime(before).TotalMilliseconds * 1e6);
                int second = (int)clock.Elapsed.TotalSeconds;
                lock (gate)
                {
                    while (seconds.Count <= second)
                    {
                        seconds.Add((0, 0, new LatencyHistogram()));
                    }

                    var (ops, errors, histogram) = seconds[second];
                    if (!failed)
                    {
                        histogram.Record(nanos);
                    }

                    seconds[second] = (ops + (failed ? 0 : 1), errors + (failed ? 1 : 0), histogram);
                }
            }
        }, CancellationToken.None)).ToArray();

        await Task.Delay(steady, cancellationToken).ConfigureAwait(false);
        double splitStart = clock.Elapsed.TotalSeconds;
        var outcome = await admin.SplitShardAsync(new ShardId(1), null, cancellationToken).ConfigureAwait(false);
        double splitEnd = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[split] split at {splitStart:F2} s, done at {splitEnd:F2} s: {outcome.Left}; {outcome.Right}"));
        await Task.Delay(after, cancellationToken).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(workers).ConfigureAwait(false);

        // Second 0 warms the clients up; the last second is cut short by the stop.
        var steadyAll = new LatencyHistogram();
        long steadyOps = 0;
        for (int s = 1; s < (int)splitStart; s++)
        {
            steadyAll.Add(seconds[s].Histogram);
            steadyOps += seconds[s].Ops;
        }

        double steadyP99 = steadyAll.Quantile(0.99) / 1e6;
        double steadyRate = steadyOps / Math.Max(1.0, (int)splitStart - 1);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"split c{concurrency} {keys} keys x {ValueBytes} B: steady {steadyRate:N0} ops/s p99 {steadyP99:F2} ms; split {splitStart:F2}-{splitEnd:F2} s ({(splitEnd - splitStart) * 1000:F0} ms)"));
        int emptySeconds = 0;
        double worstP99 = 0;
        for (int s = 1; s < seconds.Count - 1; s++)
        {
            var (ops, errors, histogram) = seconds[s];
            double p99 = histogram.Count == 0 ? double.NaN : histogram.Quantile(0.99) / 1e6;
            string mark = s + 1 > splitStart && s < splitEnd ? "  <- split" : string.Empty;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  second {s,3}: {ops,7:N0} ops  p99 {p99,8:F2} ms  errors {errors}{mark}"));
            if (s >= (int)splitStart)
            {
                emptySeconds += ops == 0 ? 1 : 0;
                worstP99 = Math.Max(worstP99, double.IsNaN(p99) ? 0 : p99);
            }
        }

        bool ok = emptySeconds == 0 && worstP99 <= 3 * steadyP99;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"split targets: seconds without completed operations {emptySeconds} (target 0), worst p99 from the split on {worstP99:F2} ms = {worstP99 / steadyP99:F1}x steady (target <= 3x): {(ok ? "MET" : "MISSED")}"));
        return 0;
    }

    private static byte[] Key(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"key-{i:D8}"));
}
