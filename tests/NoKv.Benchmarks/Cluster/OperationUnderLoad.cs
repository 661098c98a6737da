using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Client;
using NoKv.Client.Admin;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// What the `split` and `move` subcommands share: local silos with one shard, the shard loaded with 20,000 (quick) or
/// 100,000 keys of 1 KiB, 16 closed-loop clients (<see cref="LoadBySecond"/>) for a steady stretch, one controller
/// operation timed from its start to its end, the same load after it, and the per-second report with its targets.
/// </summary>
public static class OperationUnderLoad
{
    private const int ValueBytes = 1024;
    private const int Concurrency = 16;

    /// <param name="name">The subcommand, for log lines and the report.</param>
    /// <param name="prepare">Runs after the load and before the clients start (to pick what to operate on).</param>
    public static async Task<int> RunAsync(string name, string cluster, int stores, string[] siloArguments, bool quick,
        Func<INoKvAdmin, CancellationToken, Task<PreparedOperation>> prepare, CancellationToken cancellationToken)
    {
        int keys = quick ? 20_000 : 100_000;
        var steady = TimeSpan.FromSeconds(quick ? 5 : 10);
        var after = TimeSpan.FromSeconds(quick ? 5 : 10);
        Console.Error.WriteLine($"[{name}] starting {cluster}");
        await using var silos = await NoKvLocalCluster.StartAsync([], TimeSpan.FromSeconds(120), Console.Error, cancellationToken, siloArguments, stores: stores).ConfigureAwait(false);
        // NOKV_BENCH_KEEP_DATA=1 keeps the silos' logs, to line a slow second up with elections and snapshots.
        silos.KeepData = Environment.GetEnvironmentVariable("NOKV_BENCH_KEEP_DATA") == "1";
        await using var target = await NoKvClusterTarget.ConnectAsync(silos.ClusterId, silos.Gateways, silos.Silos.Select(s => s.ProcessId).ToArray(), cancellationToken).ConfigureAwait(false);
        await target.WaitUntilServingAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(15), Console.Error, cancellationToken).ConfigureAwait(false);
        var store = target.Services.GetRequiredService<IKvStore>();
        var admin = target.Services.GetRequiredService<INoKvAdmin>();

        var value = await LoadBySecond.FillAsync(store, keys, ValueBytes, name, cancellationToken).ConfigureAwait(false);
        var operation = await prepare(admin, cancellationToken).ConfigureAwait(false);
        await using var run = LoadBySecond.Start(store, keys, value, Concurrency, cancellationToken);
        await Task.Delay(steady, cancellationToken).ConfigureAwait(false);
        double start = run.Elapsed;
        string done = await operation.RunAsync(cancellationToken).ConfigureAwait(false);
        double end = run.Elapsed;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{name}] {name} at {start:F2} s, done at {end:F2} s: {done}"));
        await Task.Delay(after, cancellationToken).ConfigureAwait(false);
        await run.StopAsync().ConfigureAwait(false);
        run.Report(name, $"{name} c{Concurrency} {keys} keys x {ValueBytes} B{operation.Heading}", start, end);
        return 0;
    }
}
