using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Chaos.Checking;
using NoKv.Chaos.Cluster;
using NoKv.Chaos.Faults;
using NoKv.Chaos.Reporting;
using NoKv.Chaos.Workload;
using NoKv.Client;
using NoKv.Client.Admin;

namespace NoKv.Chaos;

/// <summary>
/// One chaos run: a fresh cluster, the closed-loop workload under seeded faults for the run's duration, then every
/// fault healed, every silo killed with SIGKILL and started again, every key read, and the history checked.
/// </summary>
public static class ChaosRun
{
    public static async Task<RunReport> RunAsync(int run, ChaosOptions options, HarnessEnvironment environment, TextWriter log)
    {
        int seed = options.Seed + run;
        log.WriteLine($"[chaos] run {run + 1}/{options.Runs}: seed {seed}, {options.Silos} silos, network {environment.Network}");
        var random = new Random(seed);
        var total = Stopwatch.StartNew();
        await using var cluster = await ChaosCluster.StartAsync(options, environment.UseNetns, environment.UseTmpfs, run, log);
        using var trace = options.TraceClient ? new Diagnostics.ClientTrace(Path.Combine(cluster.Root, "client-trace.log")) : null;
        var hosts = new List<IHost>();
        try
        {
            for (int i = 0; i < options.Clients; i++)
            {
                hosts.Add(await cluster.ConnectClientAsync(options.OperationTimeout));
            }

            var kvs = hosts.Select(h => h.Services.GetRequiredService<IKvStore>()).ToList();
            var admin = hosts[0].Services.GetRequiredService<INoKvAdmin>();
            var keys = KeySet.Create((await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(5))).Map, options.KeysPerShard);
            await WaitServingAsync(kvs[0], keys, TimeSpan.FromSeconds(90));
            log.WriteLine($"[chaos] cluster serving after {total.Elapsed.TotalSeconds:F1} s; {keys.Keys.Length} keys over {keys.ShardIds.Length} shards");

            var clock = new RunClock();
            var workloadStartUtc = DateTime.UtcNow;
            var workload = new ClosedLoopWorkload(clock, kvs, keys, options.WorkersPerShard, seed);
            var injector = new FaultInjector(cluster, clock, options, random, admin, log, environment.AvailableFaults, keys.ShardIds.Length);
            using (var stop = new CancellationTokenSource(options.Duration))
            {
                await Task.WhenAll(workload.RunAsync(stop.Token), injector.RunAsync(stop.Token));
            }

            long workloadEnd = clock.Now;
            int elections = Diagnostics.SiloLogScan.LeadersElected(cluster.Nodes.Select(n => n.LogPath), workloadStartUtc, DateTime.UtcNow);
            await cluster.HealAllAsync();
            foreach (var host in hosts)
            {
                await StopQuietlyAsync(host);
            }

            hosts.Clear();

            // A crash of the whole cluster: what was acknowledged must be there when it comes back.
            await cluster.CrashAndRestartAllAsync();
            hosts.Add(await cluster.ConnectClientAsync(options.OperationTimeout));
            var kv = hosts[0].Services.GetRequiredService<IKvStore>();
            await WaitServingAsync(kv, keys, TimeSpan.FromSeconds(120));
            var (finalValues, unread) = await ReadEverythingAsync(kv, keys, TimeSpan.FromSeconds(60));

            var history = workload.History;
            var check = HistoryChecker.Check(history, finalValues);
            var faults = injector.Faults;
            var windowOf = new Window[faults.Count];
            for (int i = 0; i < faults.Count; i++)
            {
                long until = i + 1 < faults.Count ? Math.Min(faults[i + 1].Start, workloadEnd) : workloadEnd;
                windowOf[i] = Availability.Window(history, keys.ShardIds.Length, faults[i], until);
            }

            var windows = faults.Select((f, i) => (Name: FaultNames.Name(f.Kind), Window: windowOf[i].Ms))
                .GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.Select(x => x.Window).ToList());

            var report = new RunReport
            {
                Run = run + 1,
                Seed = seed,
                System = "nokv",
                Silos = options.Silos,
                Network = environment.Network,
                Seconds = Math.Round(total.Elapsed.TotalSeconds, 1),
                OperationsOk = history.Count(o => !o.IsUnknown),
                OperationsUnknown = history.Count(o => o.IsUnknown),
                KeysChecked = check.KeysChecked,
                FaultsByType = faults.GroupBy(f => FaultNames.Name(f.Kind)).ToDictionary(g => g.Key, g => g.Count()),
                WindowsMs = windows,
                FaultLog = faults.Select((f, i) => string.Create(CultureInfo.InvariantCulture,
                    $"{RunClock.ToMilliseconds(f.Start) / 1000:F1}s {FaultNames.Name(f.Kind)}: {f.Note}; window {windowOf[i].Ms:F0} ms (shard {keys.ShardIds[windowOf[i].Shard]}, from +{windowOf[i].GapFromMs:F0} ms)")).ToList(),
                Violations = check.Violations.ToList(),
                LostWrites = check.LostWrites.ToList(),
                Undecided = check.Undecided.ToList(),
                UnreadKeys = unread,
                UnexpectedExits = cluster.UnexpectedExits.ToList(),
                DiskFullExits = cluster.DiskFullExits,
                Elections = elections,
                Failures = workload.Failures.ToDictionary(f => f.Key, f => f.Value),
                SkippedFaults = environment.Skipped.ToList(),
            };
            if (report.Violations.Count + report.LostWrites.Count + report.UnreadKeys.Count > 0)
            {
                cluster.KeepData = true;
            }

            return report;
        }
        catch
        {
            cluster.KeepData = true;
            throw;
        }
        finally
        {
            foreach (var host in hosts)
            {
                await StopQuietlyAsync(host);
            }
        }
    }

    /// <summary>Waits until a write to a probe key of every shard succeeds.</summary>
    public static async Task WaitServingAsync(IKvStore kv, KeySet keys, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        for (int shard = 0; shard < keys.ShardIds.Length; shard++)
        {
            while (true)
            {
                try
                {
                    await kv.PutAsync(keys.ProbeKey(shard), "ready"u8.ToArray());
                    break;
                }
                catch (Exception e) when (clock.Elapsed < timeout)
                {
                    _ = e;
                    await Task.Delay(200);
                }
            }
        }
    }

    private static async Task<(Dictionary<int, long> Values, List<string> Unread)> ReadEverythingAsync(IKvStore kv, KeySet keys, TimeSpan timeout)
    {
        var values = new Dictionary<int, long>();
        var unread = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int key = 0; key < keys.Keys.Length; key++)
        {
            while (true)
            {
                try
                {
                    values[key] = ClosedLoopWorkload.Decode(await kv.GetAsync(keys.Keys[key]));
                    break;
                }
                catch (Exception e)
                {
                    if (clock.Elapsed > timeout)
                    {
                        unread.Add($"k{key}: {e.GetType().Name}: {e.Message}");
                        break;
                    }

                    await Task.Delay(200);
                }
            }
        }

        return (values, unread);
    }

    public static async Task StopQuietlyAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (Exception)
        {
            // A gateway it knew is gone; nothing to say goodbye to.
        }

        host.Dispose();
    }
}
