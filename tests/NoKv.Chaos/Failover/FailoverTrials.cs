using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Chaos.Cluster;
using NoKv.Chaos.Faults;
using NoKv.Chaos.Reporting;
using NoKv.Chaos.Workload;
using NoKv.Client;
using NoKv.Client.Admin;

namespace NoKv.Chaos.Failover;

/// <summary>
/// The failover measurement of issue 14: with the closed-loop workload running on every shard, SIGKILL (then restart)
/// or SIGSTOP (then SIGCONT) one silo that leads shards, trial after trial, rotating over the stores, and measure how
/// long the shards it led took to serve again and whether the other shards kept at least half their throughput in
/// every second of the fault. Between trials the cluster settles: the silo is back, every shard has a leader.
/// The history is checked for linearizability as in a chaos run.
/// </summary>
public static class FailoverTrials
{
    private static readonly TimeSpan Baseline = TimeSpan.FromSeconds(3);

    /// <summary>How long the leader of every shard must stay the same before a trial starts.</summary>
    private static readonly TimeSpan StableLeaders = TimeSpan.FromSeconds(4);

    public static async Task<(List<FailoverTrial> Trials, RunReport Check)> RunAsync(ChaosOptions options, HarnessEnvironment environment, TextWriter log)
    {
        var total = Stopwatch.StartNew();
        var quiet = new HarnessEnvironment { UseNetns = environment.UseNetns, UseTmpfs = false, Network = environment.Network, AvailableFaults = environment.AvailableFaults, Skipped = [] };
        await using var cluster = await ChaosCluster.StartAsync(options, quiet.UseNetns, useTmpfs: false, run: 99, log);
        var hosts = new List<IHost>();
        var trials = new List<FailoverTrial>();
        using var trace = options.TraceClient ? new Diagnostics.ClientTrace(Path.Combine(cluster.Root, "client-trace.log")) : null;
        try
        {
            for (int i = 0; i < options.Clients; i++)
            {
                hosts.Add(await cluster.ConnectClientAsync(options.OperationTimeout));
            }

            var kvs = hosts.Select(h => (IKvTarget)new NoKvTarget(h.Services.GetRequiredService<IKvStore>())).ToList();
            var admin = hosts[0].Services.GetRequiredService<INoKvAdmin>();
            var keys = KeySet.Create((await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(5))).Map, options.KeysPerShard);
            await ChaosRun.WaitServingAsync(kvs[0], keys, TimeSpan.FromSeconds(90));
            var clock = new RunClock();
            var workloadStartUtc = DateTime.UtcNow;
            var workload = new ClosedLoopWorkload(clock, kvs, keys, options.WorkersPerShard, options.Seed);
            using var stop = new CancellationTokenSource();
            var work = workload.RunAsync(stop.Token);
            int rotation = 0;
            foreach (var kind in options.FailoverFaults)
            {
                for (int trial = 0; trial < options.FailoverTrials; trial++)
                {
                    var leaders = await SettleAsync(cluster, admin, keys.ShardIds.Length);
                    // The next store in rotation that leads something (leader balance gives every store a shard when all are up).
                    int store = Enumerable.Range(0, options.Silos).Select(k => ((rotation + k) % options.Silos) + 1).First(s => leaders.ContainsValue(s));
                    rotation = store;
                    var led = leaders.Where(l => l.Value == store).Select(l => l.Key).Order().ToList();
                    await Task.Delay(Baseline);
                    long start = clock.Now;
                    if (kind == FaultKind.Kill)
                    {
                        await cluster.KillAsync(store);
                    }
                    else
                    {
                        await cluster.FreezeAsync(store);
                    }

                    await Task.Delay(options.FailoverHold);
                    long healed = clock.Now;
                    if (kind == FaultKind.Kill)
                    {
                        await cluster.RestartAsync(store);
                    }
                    else
                    {
                        await cluster.ThawAsync(store);
                    }

                    var result = Measure(workload.History, keys, FaultNames.Name(kind), store, led, start, healed);
                    trials.Add(result);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[failover] {result.Kind} #{trial + 1} store {store} led [{string.Join(",", led)}]: served again after [{string.Join(", ", result.RecoveryMs.Select(r => r is double ms ? $"{ms:F0} ms" : $">{result.HeldMs:F0} ms"))}], other shards' lowest second {result.OtherShardsMinRatio:P0} of before ({result.LowestSecond})"));
                }
            }

            await SettleAsync(cluster, admin, keys.ShardIds.Length);
            stop.Cancel();
            await work;
            var history = workload.History;
            var check = Checking.HistoryChecker.Check(history, finalValues: null);
            var report = new RunReport
            {
                Run = 0,
                Seed = options.Seed,
                System = "nokv",
                Silos = options.Silos,
                Network = environment.Network,
                Seconds = Math.Round(total.Elapsed.TotalSeconds, 1),
                OperationsOk = history.Count(o => !o.IsUnknown),
                OperationsUnknown = history.Count(o => o.IsUnknown),
                KeysChecked = check.KeysChecked,
                FaultsByType = trials.GroupBy(t => t.Kind).ToDictionary(g => g.Key, g => g.Count()),
                WindowsMs = new Dictionary<string, List<double>>(),
                FaultLog = [],
                Violations = check.Violations.ToList(),
                LostWrites = [],
                Undecided = check.Undecided.ToList(),
                UnreadKeys = [],
                UnexpectedExits = cluster.UnexpectedExits.ToList(),
                Elections = Diagnostics.SiloLogScan.LeadersElected(cluster.Nodes.Select(n => n.LogPath), workloadStartUtc, DateTime.UtcNow),
                ElectionTimeouts = Diagnostics.SiloLogScan.ElectionTimeouts(cluster.Nodes.Select(n => n.LogPath), workloadStartUtc, DateTime.UtcNow),
                Failures = workload.Failures.ToDictionary(f => f.Key, f => f.Value),
                SkippedFaults = [],
            };
            return (trials, report);
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
                await ChaosRun.StopQuietlyAsync(host);
            }
        }
    }

    private static FailoverTrial Measure(IReadOnlyList<HistoryOp> history, KeySet keys, string kind, int store, List<long> led, long start, long healed)
    {
        var recovery = new List<double?>();
        double minRatio = double.PositiveInfinity;
        string lowest = "none";
        long second = RunClock.FromMilliseconds(1000);
        long before = start - RunClock.FromMilliseconds(Baseline.TotalMilliseconds);
        for (int shard = 0; shard < keys.ShardIds.Length; shard++)
        {
            if (led.Contains(keys.ShardIds[shard]))
            {
                var first = history.Where(o => o.Shard == shard && !o.IsUnknown && o.Invoke >= start && o.Return <= healed).Select(o => (long?)o.Return).Min();
                recovery.Add(first is long t ? Math.Round(RunClock.ToMilliseconds(t - start), 1) : null);
                continue;
            }

            double baseline = Availability.Completions(history, shard, before, start).Count() / Baseline.TotalSeconds;
            for (long from = start; from + second <= healed; from += second)
            {
                int done = Availability.Completions(history, shard, from, from + second).Count();
                double ratio = baseline == 0 ? 1 : done / baseline;
                if (ratio < minRatio)
                {
                    minRatio = ratio;
                    lowest = $"shard {keys.ShardIds[shard]} in second {(from - start) / second + 1}";
                }
            }
        }

        return new FailoverTrial(kind, store, led, recovery, double.IsPositiveInfinity(minRatio) ? 1 : Math.Round(minRatio, 3), Math.Round(RunClock.ToMilliseconds(healed - start), 1)) { LowestSecond = lowest };
    }

    /// <summary>
    /// Waits until every silo runs, every shard has a leader and a status answer from every replica, and the leaders have
    /// not changed for <see cref="StableLeaders"/>; returns the leaders. The last condition keeps the previous trial's
    /// aftermath out of the next one: a restarted store takes back the shards it prefers to lead a few seconds after it
    /// rejoins, and a leadership transfer landing in the next trial's fault would be charged to that fault.
    /// </summary>
    private static async Task<Dictionary<long, int>> SettleAsync(ChaosCluster cluster, INoKvAdmin admin, int shards)
    {
        var (leaders, why) = await Readiness.WaitAsync(cluster, new NoKvClusterView(admin), shards, StableLeaders, TimeSpan.FromSeconds(120));
        return leaders ?? throw new TimeoutException($"the cluster did not settle (every silo up, every shard led, every replica answering) within 120 s: {why}");
    }
}
