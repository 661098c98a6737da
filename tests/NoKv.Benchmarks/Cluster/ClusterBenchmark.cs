using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `cluster` subcommand: closed-loop mixed workloads against 3-node systems with 1, 16, 64 and 256
/// concurrent operations. NoKV always runs: three local silo processes (<see cref="NoKvLocalCluster"/>)
/// driven through the client SDK. With --etcd the same workload then runs against a local 3-member etcd
/// cluster (etcd/start-etcd-cluster.sh), or against --etcd-endpoints if given. The systems run one after
/// the other, never at the same time, so neither competes with the other for the cores.
/// </summary>
public static class ClusterBenchmark
{
    /// <summary>Exit code when a system could not be run to the end (its error is printed).</summary>
    public const int Failed = 1;

    /// <summary>The comparison the issue sets a target for: write throughput and p99 at this concurrency.</summary>
    private const string TargetKey = "write/c64";

    private static readonly int[] DefaultConcurrencies = [1, 16, 64, 256];

    private const int WarmUpConcurrency = 64;

    /// <summary>Below this CPU use (in cores, all server processes together) the servers count as quiet.</summary>
    private const double QuietCores = 0.25;

    private static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan QuietDeadline = TimeSpan.FromSeconds(20);

    public static async Task<int> RunAsync(ClusterBenchmarkOptions options, CancellationToken cancellationToken)
    {
        if (options.Shards is < 1 or > 4096)
        {
            Console.Error.WriteLine($"--shards must be between 1 and 4096 (got {options.Shards})");
            return Failed;
        }
        if (options.IdleSeconds < 0)
        {
            Console.Error.WriteLine($"--idle-seconds must not be negative (got {options.IdleSeconds})");
            return Failed;
        }
        if (!TryParseSelection(options, out var mixes, out var concurrencies, out var selectionError))
        {
            Console.Error.WriteLine(selectionError);
            return Failed;
        }
        var duration = options.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
        var warmUp = options.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(5);
        // At least one key per shard, so every split point is distinct and every shard gets writes.
        var keyCount = Math.Max(options.Quick ? 2_000 : 20_000, options.Shards * 4);
        Console.Error.WriteLine($"cluster benchmark: {keyCount:N0} keys of {KeyValueFormat.KeySize} B, values {KeyValueFormat.ValueSize} B, " +
                                $"{duration.TotalSeconds:F0} s per mix and concurrency after {warmUp.TotalSeconds:F0} s of warm-up per mix");

        var results = new List<ClusterRunResult>();
        var failures = new List<string>();
        try
        {
            results.AddRange(await RunNoKvAsync(new Plan(duration, warmUp, keyCount, mixes, concurrencies, options.Timeline), options.Shards, options.KeepData, options.IdleSeconds, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            failures.Add($"nokv: {exception.GetType().Name}: {exception.Message}");
        }

        if (options.Etcd || options.EtcdEndpoints is not null)
        {
            try
            {
                results.AddRange(await RunEtcdAsync(new Plan(duration, warmUp, keyCount, mixes, concurrencies, options.Timeline), options.EtcdEndpoints, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"etcd: {exception.GetType().Name}: {exception.Message}");
            }
        }

        Print(results, Console.Out);
        if (options.JsonPath is not null)
        {
            WriteJson(results, options.JsonPath);
        }
        foreach (var failure in failures)
        {
            Console.Error.WriteLine($"FAILED {failure}");
        }
        return failures.Count == 0 ? 0 : Failed;
    }

    /// <summary>
    /// Starts the local 3-silo cluster, pre-split so the benchmark's key space is spread evenly over
    /// <paramref name="shards"/> shards, runs the workload through the client, and stops the silos again
    /// (also on failure or Ctrl-C).
    /// </summary>
    private static async Task<List<ClusterRunResult>> RunNoKvAsync(Plan plan, int shards, bool keepData, int idleSeconds, CancellationToken cancellationToken)
    {
        var splitKeys = SplitKeys(plan.KeyCount, shards);
        Console.Error.WriteLine(splitKeys.Count <= 64
            ? $"[nokv] starting 3 silos, {shards} shard(s), split keys [{string.Join(", ", splitKeys)}]"
            : $"[nokv] starting 3 silos, {shards} shard(s), split keys [{splitKeys[0]}, {splitKeys[1]}, ..., {splitKeys[^1]}]");
        await using var cluster = await NoKvLocalCluster.StartAsync(splitKeys, TimeSpan.FromSeconds(120), Console.Error, cancellationToken).ConfigureAwait(false);
        cluster.KeepData = keepData;
        try
        {
            await using var target = await NoKvClusterTarget.ConnectAsync(cluster.ClusterId, cluster.Gateways, cluster.Silos.Select(s => s.ProcessId).ToArray(), cancellationToken).ConfigureAwait(false);
            await target.WaitUntilServingAsync(TimeSpan.FromSeconds(90 + (shards / 10)), TimeSpan.FromSeconds(15), Console.Error, cancellationToken).ConfigureAwait(false);
            if (idleSeconds > 0)
            {
                await IdleCpu.MeasureAsync(cluster.Silos, shards, TimeSpan.FromSeconds(idleSeconds), Console.Out, Console.Error, cancellationToken).ConfigureAwait(false);
            }

            return await RunSystemAsync(target, plan, cancellationToken, cluster.HttpPorts).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            cluster.KeepData = true;
            foreach (var silo in cluster.Silos)
            {
                if (silo.HasExited)
                {
                    Console.Error.WriteLine($"[nokv] store {silo.StoreId} exited with code {silo.ExitCode}; last log lines:\n{silo.LogTail(20)}");
                }
            }
            throw;
        }
    }

    private static async Task<List<ClusterRunResult>> RunEtcdAsync(Plan plan, string? endpoints, CancellationToken cancellationToken)
    {
        EtcdLocalCluster? local = null;
        try
        {
            if (endpoints is null)
            {
                local = await EtcdLocalCluster.StartAsync(cancellationToken).ConfigureAwait(false);
                endpoints = local.Endpoints;
            }
            await using var target = new EtcdClusterTarget(endpoints, local?.ProcessIds ?? []);
            return await RunSystemAsync(target, plan, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (local is not null)
            {
                await local.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Split points that cut the workload's key space (present keys 0 .. keyCount-1, see
    /// <see cref="KeyValueFormat"/>) into <paramref name="shards"/> ranges of equal key count. Without them
    /// the bootstrap layout cuts on the first key byte, and every 16-digit key ('0'..'9') would fall into
    /// one shard: one Raft group, one leader, as in etcd.
    /// </summary>
    public static IReadOnlyList<string> SplitKeys(int keyCount, int shards)
    {
        var keys = new string[shards - 1];
        Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
        for (var i = 1; i < shards; i++)
        {
            KeyValueFormat.WriteKey((long)keyCount * i / shards, key);
            keys[i - 1] = Encoding.ASCII.GetString(key);
        }
        return keys;
    }

    /// <summary>
    /// Preloads the key space, warms up, then runs every mix at every concurrency against one system.
    /// The warm-up runs each mix once at <see cref="WarmUpConcurrency"/> for the plan's warm-up time
    /// and discards the figures. A freshly started .NET process runs unoptimized (tier-0) code until
    /// tiered compilation catches up, which takes seconds on a loaded 2-core machine. Without the
    /// warm-up the first measured points timed start-up, not the system. Measured with 1 s of warm-up
    /// per mix: NoKV's write/c1 gave 17 ops/s at p50 48.7 ms, and 354 ops/s at 1.9 ms with the silos'
    /// tiering off (DOTNET_TieredCompilation=0). etcd (Go, compiled ahead of time) gets the same
    /// warm-up, so the comparison stays fair.
    /// </summary>
    private static async Task<List<ClusterRunResult>> RunSystemAsync(IClusterTarget target, Plan plan, CancellationToken cancellationToken, IReadOnlyList<int>? httpPorts = null)
    {
        var runner = new ClusterWorkloadRunner(target, plan.Duration, plan.KeyCount, Console.Error, plan.Timeline);
        Console.Error.WriteLine($"[{target.Name}] preloading {plan.KeyCount:N0} keys");
        await runner.PreloadAsync(cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"[{target.Name}] warming up: every mix at c{WarmUpConcurrency} for {plan.WarmUpPerMix.TotalSeconds:F0} s, not counted");
        var warmUp = new ClusterWorkloadRunner(target, plan.WarmUpPerMix, plan.KeyCount, TextWriter.Null);
        foreach (var mix in plan.Mixes)
        {
            await warmUp.RunAsync(mix, WarmUpConcurrency, cancellationToken).ConfigureAwait(false);
        }
        await WaitForQuietServersAsync(target, cancellationToken).ConfigureAwait(false);
        var results = new List<ClusterRunResult>();
        foreach (var mix in plan.Mixes)
        {
            foreach (var concurrency in plan.Concurrencies)
            {
                var before = httpPorts is null ? null : await SiloCounters.ReadAsync(httpPorts, cancellationToken).ConfigureAwait(false);
                var result = await runner.RunAsync(mix, concurrency, cancellationToken).ConfigureAwait(false);
                results.Add(result);
                if (before is not null)
                {
                    var after = await SiloCounters.ReadAsync(httpPorts!, cancellationToken).ConfigureAwait(false);
                    Console.WriteLine($"{result.Key}: {SiloCounters.PerOperation(before, after, result.Operations)}");
                }
            }
        }
        return results;
    }

    /// <summary>Parses --mixes and --concurrency; an unknown mix or a non-positive concurrency is an error.</summary>
    private static bool TryParseSelection(ClusterBenchmarkOptions options, out IReadOnlyList<ClusterMix> mixes, out IReadOnlyList<int> concurrencies, out string error)
    {
        mixes = ClusterMix.All;
        concurrencies = DefaultConcurrencies;
        error = "";
        if (options.Mixes is { } mixList)
        {
            var chosen = new List<ClusterMix>();
            foreach (var name in mixList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var mix = ClusterMix.All.FirstOrDefault(m => m.Name == name);
                if (mix is null)
                {
                    error = $"--mixes: unknown mix '{name}' (known: {string.Join(", ", ClusterMix.All.Select(m => m.Name))})";
                    return false;
                }
                chosen.Add(mix);
            }
            mixes = chosen;
        }
        if (options.Concurrencies is { } concurrencyList)
        {
            var chosen = new List<int>();
            foreach (var item in concurrencyList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > 4096)
                {
                    error = $"--concurrency: '{item}' is not a concurrency between 1 and 4096";
                    return false;
                }
                chosen.Add(value);
            }
            concurrencies = chosen;
        }
        if (mixes.Count == 0 || concurrencies.Count == 0)
        {
            error = "--mixes and --concurrency must name at least one value each";
            return false;
        }
        return true;
    }

    /// <summary>
    /// Waits, at most <see cref="QuietDeadline"/>, until the server processes use less than
    /// <see cref="QuietCores"/> of CPU over a <see cref="QuietWindow"/>. The preload and warm-up leave
    /// background work behind: tier-1 JIT of the code they ran, memtable flushes and compactions, Raft
    /// log truncation. Measured without this wait, NoKV's first point (write/c1, right after the
    /// warm-up) ran at 19 ops/s with 0.9 core of silo CPU spent elsewhere; the same point later in the
    /// run did 30x more. Both systems get the same wait. Returns at once when the server processes
    /// are unknown (--etcd-endpoints).
    /// </summary>
    private static async Task WaitForQuietServersAsync(IClusterTarget target, CancellationToken cancellationToken)
    {
        if (target.ServerProcessIds.Count == 0)
        {
            return;
        }
        var start = Stopwatch.GetTimestamp();
        var before = ProcessCpu.Total(target.ServerProcessIds);
        double cores;
        do
        {
            await Task.Delay(QuietWindow, cancellationToken).ConfigureAwait(false);
            var now = ProcessCpu.Total(target.ServerProcessIds);
            cores = (now - before) / QuietWindow;
            before = now;
        }
        while (cores >= QuietCores && Stopwatch.GetElapsedTime(start) < QuietDeadline);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{target.Name}] servers {(cores < QuietCores ? "quiet" : "still busy")} after {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s ({cores:F2} cores over the last {QuietWindow.TotalSeconds:F1} s)"));
    }

    /// <summary>One row per mix and concurrency, one column group per system; then the target comparison.</summary>
    public static void Print(IReadOnlyList<ClusterRunResult> results, TextWriter output)
    {
        var systems = results.Select(r => r.System).Distinct().ToList();
        if (systems.Count == 0)
        {
            output.WriteLine("no results");
            return;
        }
        var header = new StringBuilder($"{"mix/conc",-10}");
        foreach (var system in systems)
        {
            header.Append(CultureInfo.InvariantCulture, $" | {system + " ops/s",12} {"p50 ms",7} {"p99 ms",7} {"p999 ms",8} {"err",4} {"srv us/op",9} {"cli us/op",9}");
        }
        output.WriteLine(header);
        output.WriteLine(new string('-', header.Length));
        foreach (var key in results.Select(r => r.Key).Distinct())
        {
            var row = new StringBuilder($"{key,-10}");
            foreach (var system in systems)
            {
                var r = Find(results, system, key);
                row.Append(r is null
                    ? $" | {"-",12} {"-",7} {"-",7} {"-",8} {"-",4} {"-",9} {"-",9}"
                    : string.Create(CultureInfo.InvariantCulture,
                        $" | {r.OpsPerSecond,12:N0} {r.P50Milliseconds,7:F2} {r.P99Milliseconds,7:F2} {r.P999Milliseconds,8:F2} {r.Errors,4} {r.ServerCpuMicrosPerOp,9:F0} {r.ClientCpuMicrosPerOp,9:F0}"));
            }
            output.WriteLine(row);
        }

        var nokv = Find(results, "nokv", TargetKey);
        var etcd = Find(results, "etcd", TargetKey);
        if (nokv is not null && etcd is not null)
        {
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"nokv/etcd {TargetKey}: throughput {nokv.OpsPerSecond / etcd.OpsPerSecond:F2}x (target >= 1.50x), " +
                $"p99 {nokv.P99Milliseconds / etcd.P99Milliseconds:F2}x ({nokv.P99Milliseconds:F2} ms vs {etcd.P99Milliseconds:F2} ms; target <= 1.00x)"));
        }
    }

    /// <summary>Writes {"&lt;system&gt;": {"&lt;mix&gt;/c&lt;concurrency&gt;": {"ops_per_sec", "p50_ms", "p99_ms", "p999_ms"}}}.</summary>
    public static void WriteJson(IReadOnlyList<ClusterRunResult> results, string path)
    {
        var root = new JsonObject();
        foreach (var result in results)
        {
            if (root[result.System] is not JsonObject system)
            {
                system = new JsonObject();
                root[result.System] = system;
            }
            system[result.Key] = new JsonObject
            {
                ["ops_per_sec"] = Round(result.OpsPerSecond, 1),
                ["p50_ms"] = Round(result.P50Milliseconds, 3),
                ["p99_ms"] = Round(result.P99Milliseconds, 3),
                ["p999_ms"] = Round(result.P999Milliseconds, 3),
            };
        }
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static ClusterRunResult? Find(IReadOnlyList<ClusterRunResult> results, string system, string key)
    {
        foreach (var result in results)
        {
            if (result.System == system && result.Key == key)
            {
                return result;
            }
        }
        return null;
    }

    /// <summary>NaN (a run without a single completed operation) is not valid JSON; it is written as null.</summary>
    private static JsonNode? Round(double value, int digits) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, digits)) : null;
}
