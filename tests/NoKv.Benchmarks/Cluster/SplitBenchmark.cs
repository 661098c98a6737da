using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Sharding;
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

        var value = await LoadBySecond.FillAsync(store, keys, ValueBytes, "split", cancellationToken).ConfigureAwait(false);

        await using var run = LoadBySecond.Start(store, keys, value, concurrency, cancellationToken);
        await Task.Delay(steady, cancellationToken).ConfigureAwait(false);
        double splitStart = run.Elapsed;
        var outcome = await admin.SplitShardAsync(new ShardId(1), null, cancellationToken).ConfigureAwait(false);
        double splitEnd = run.Elapsed;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[split] split at {splitStart:F2} s, done at {splitEnd:F2} s: {outcome.Left}; {outcome.Right}"));
        await Task.Delay(after, cancellationToken).ConfigureAwait(false);
        await run.StopAsync().ConfigureAwait(false);
        run.Report("split", $"split c{concurrency} {keys} keys x {ValueBytes} B", splitStart, splitEnd);
        return 0;
    }
}
