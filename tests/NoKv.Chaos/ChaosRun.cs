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
    /// <param name="etcd">Run against a 3- or 5-member etcd (the anchor) instead of NoKV: same workload, faults and checks.</param>
    public static async Task<RunReport> RunAsync(int run, ChaosOptions options, HarnessEnvironment environment, TextWriter log, bool etcd = false)
    {
        int seed = options.Seed + run;
        string system = etcd ? "etcd" : "nokv";
        log.WriteLine($"[chaos] {system} run {run + 1}/{options.Runs}: seed {seed}, {options.Silos} {(etcd ? "members" : "silos")}, network {environment.Network}");
        var random = new Random(seed);
        var total = Stopwatch.StartNew();
        await using var cluster = await ChaosCluster.StartAsync(options, environment.UseNetns, environment.UseTmpfs, etcd ? 1000 + run : run, log, etcd);
        using var trace = options.TraceClient && !etcd ? new Diagnostics.ClientTrace(Path.Combine(cluster.Root, "client-trace.log")) : null;
        var hosts = new List<IHost>();
        var disposables = new List<IDisposable>();
        try
        {
            List<IKvTarget> kvs;
            IClusterView view;
            KeySet keys;
            if (etcd)
            {
                keys = KeySet.Uniform(options.Silos == 3 ? 4 : 5, options.KeysPerShard);
                kvs = Enumerable.Range(0, options.Clients).Select(_ => (IKvTarget)Track(new Etcd.EtcdTarget(cluster.EtcdEndpoints, AttemptTimeout(options), options.OperationTimeout))).ToList();
                view = Track(new Etcd.EtcdClusterView(cluster, keys.ShardIds));
            }
            else
            {
                for (int i = 0; i < options.Clients; i++)
                {
                    hosts.Add(await cluster.ConnectClientAsync(options.OperationTimeout));
                }

                kvs = hosts.Select(h => (IKvTarget)new NoKvTarget(h.Services.GetRequiredService<IKvStore>())).ToList();
                var admin = hosts[0].Services.GetRequiredService<INoKvAdmin>();
                view = new NoKvClusterView(admin);
                keys = KeySet.Create((await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(5))).Map, options.KeysPerShard);
            }

            T Track<T>(T disposable)
                where T : IDisposable
            {
                disposables.Add(disposable);
                return disposable;
            }

            await WaitServingAsync(kvs[0], keys, TimeSpan.FromSeconds(90));
            log.WriteLine($"[chaos] cluster serving after {total.Elapsed.TotalSeconds:F1} s; {keys.Keys.Length} keys over {keys.ShardIds.Length} shards");

            var clock = new RunClock();
            var workloadStartUtc = DateTime.UtcNow;
            bool soak = options.SoakMinutes > 0;
            if (soak)
            {
                // A new generation of keys every minute keeps each key's history short enough for the checker.
                keys = keys.WithEpochs(options.SoakMinutes + 1);
            }

            var workload = new ClosedLoopWorkload(clock, kvs, keys, options.WorkersPerShard, seed, soak ? TimeSpan.FromMinutes(1) : null, recordLatencies: soak);
            // etcd has no slow-disk switch: its runs leave that kind out.
            var available = etcd ? environment.AvailableFaults.Where(k => k != FaultKind.SlowDisk).ToArray() : environment.AvailableFaults;
            var injector = new FaultInjector(cluster, clock, options, random, view, log, available, keys.ShardIds.Length);
            var monitor = soak ? new Soak.SoakMonitor(cluster, workload, injector, clock, log) : null;
            using (var stop = new CancellationTokenSource(options.Duration))
            {
                await Task.WhenAll(workload.RunAsync(stop.Token), injector.RunAsync(stop.Token), monitor?.RunAsync(stop.Token) ?? Task.CompletedTask);
            }

            long workloadEnd = clock.Now;
            int elections = Diagnostics.SiloLogScan.LeadersElected(cluster.Nodes.Select(n => n.LogPath), workloadStartUtc, DateTime.UtcNow);
            int timeouts = Diagnostics.SiloLogScan.ElectionTimeouts(cluster.Nodes.Select(n => n.LogPath), workloadStartUtc, DateTime.UtcNow);
            await cluster.HealAllAsync();
            foreach (var host in hosts)
            {
                await StopQuietlyAsync(host);
            }

            hosts.Clear();

            // A crash of the whole cluster: what was acknowledged must be there when it comes back.
            await cluster.CrashAndRestartAllAsync();
            IKvTarget kv;
            if (etcd)
            {
                kv = Track(new Etcd.EtcdTarget(cluster.EtcdEndpoints, AttemptTimeout(options), options.OperationTimeout));
            }
            else
            {
                hosts.Add(await cluster.ConnectClientAsync(options.OperationTimeout));
                kv = new NoKvTarget(hosts[0].Services.GetRequiredService<IKvStore>());
            }

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
                System = system,
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
                ElectionTimeouts = timeouts,
                Failures = workload.Failures.ToDictionary(f => f.Key, f => f.Value),
                SkippedFaults = environment.Skipped.ToList(),
                Soak = monitor?.Samples.ToList() ?? [],
                Growth = monitor is null ? [] : Soak.GrowthCheck.Analyze(monitor.Samples, options.SoakGrowthPercent),
                RssSlopes = monitor is null ? [] : Soak.GrowthCheck.RssSlopes(monitor.Samples, options.SoakRssSlope),
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

            foreach (var disposable in disposables)
            {
                disposable.Dispose();
            }
        }
    }

    /// <summary>The attempt timeout of the run's clients: the option, else the NoKV SDK's default (etcd's client gets the same).</summary>
    private static TimeSpan AttemptTimeout(ChaosOptions options) =>
        options.AttemptTimeoutMs is int ms ? TimeSpan.FromMilliseconds(ms) : NoKvClientOptions.DefaultAttemptTimeout;

    /// <summary>Waits until a write to a probe key of every shard succeeds.</summary>
    public static async Task WaitServingAsync(IKvTarget kv, KeySet keys, TimeSpan timeout)
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

    private static async Task<(Dictionary<int, long> Values, List<string> Unread)> ReadEverythingAsync(IKvTarget kv, KeySet keys, TimeSpan timeout)
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
