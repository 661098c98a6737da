using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `cluster` subcommand: closed-loop mixed workloads against 3-node systems with 1, 16, 64 and
/// 256 concurrent operations. The NoKV side needs the cluster layer and is not available yet (the
/// command says so and exits 2); the etcd side works now: with --etcd the benchmark starts a local
/// 3-member etcd cluster through etcd/start-etcd-cluster.sh, or uses --etcd-endpoints if given.
/// </summary>
public static class ClusterBenchmark
{
    /// <summary>Exit code for "the NoKV side cannot run yet".</summary>
    public const int NotAvailable = 2;

    private static readonly int[] Concurrencies = [1, 16, 64, 256];

    public static async Task<int> RunAsync(bool quick, string? jsonPath, bool etcd, string? etcdEndpoints, CancellationToken cancellationToken)
    {
        var results = new List<ClusterRunResult>();
        if (etcd || etcdEndpoints is not null)
        {
            EtcdLocalCluster? local = null;
            try
            {
                if (etcdEndpoints is null)
                {
                    local = await EtcdLocalCluster.StartAsync(cancellationToken).ConfigureAwait(false);
                    etcdEndpoints = local.Endpoints;
                }
                await using var target = new EtcdClusterTarget(etcdEndpoints);
                results.AddRange(await RunSystemAsync(target, quick, cancellationToken).ConfigureAwait(false));
            }
            finally
            {
                if (local is not null)
                {
                    await local.DisposeAsync().ConfigureAwait(false);
                }
            }
            Print(results, Console.Out);
            if (jsonPath is not null)
            {
                WriteJson(results, jsonPath);
            }
        }
        Console.Error.WriteLine("cluster benchmark: not yet available");
        return NotAvailable;
    }

    /// <summary>Preloads the key space, then runs every mix at every concurrency against one system.</summary>
    public static async Task<List<ClusterRunResult>> RunSystemAsync(IClusterTarget target, bool quick, CancellationToken cancellationToken)
    {
        var duration = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
        var keyCount = quick ? 2_000 : 20_000;
        var runner = new ClusterWorkloadRunner(target, duration, keyCount, Console.Error);
        Console.Error.WriteLine($"[{target.Name}] preloading {keyCount:N0} keys");
        await runner.PreloadAsync(cancellationToken).ConfigureAwait(false);
        var results = new List<ClusterRunResult>();
        foreach (var mix in ClusterMix.All)
        {
            foreach (var concurrency in Concurrencies)
            {
                results.Add(await runner.RunAsync(mix, concurrency, cancellationToken).ConfigureAwait(false));
            }
        }
        return results;
    }

    public static void Print(IReadOnlyList<ClusterRunResult> results, TextWriter output)
    {
        output.WriteLine($"{"system",-7} {"mix/concurrency",-16} {"ops/s",10} {"p50 ms",8} {"p99 ms",8} {"p999 ms",8} {"errors",7}");
        foreach (var result in results)
        {
            output.WriteLine($"{result.System,-7} {result.Key,-16} {result.OpsPerSecond,10:N0} {result.P50Milliseconds,8:F2} " +
                             $"{result.P99Milliseconds,8:F2} {result.P999Milliseconds,8:F2} {result.Errors,7}");
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
                ["ops_per_sec"] = Math.Round(result.OpsPerSecond, 1),
                ["p50_ms"] = Math.Round(result.P50Milliseconds, 3),
                ["p99_ms"] = Math.Round(result.P99Milliseconds, 3),
                ["p999_ms"] = Math.Round(result.P999Milliseconds, 3),
                ["operations"] = result.Operations,
                ["errors"] = result.Errors,
            };
        }
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
