using System.Globalization;
using NoKv.Chaos.Faults;

namespace NoKv.Chaos;

/// <summary>Command-line settings of the harness (see tests/NoKv.Chaos/README.md and docs/chaos.md).</summary>
public sealed class ChaosOptions
{
    public int Silos { get; private set; } = 3;

    public int Runs { get; private set; } = 1;

    /// <summary>Length of the faulty part of a run (workload and faults), before the final restart and read.</summary>
    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(60);

    public int Seed { get; private set; } = Environment.TickCount & 0x7fffffff;

    /// <summary>Kinds in the rotation. Default: every kind but slow-disk (CI's run keeps its proven rotation); a soak's default is every kind.</summary>
    public IReadOnlyList<FaultKind> Faults { get; private set; } = DefaultFaults;

    public static readonly IReadOnlyList<FaultKind> DefaultFaults = Enum.GetValues<FaultKind>().Where(k => k != FaultKind.SlowDisk).ToArray();

    /// <summary>How long each engine sync of the slowed store waits during a slow-disk fault.</summary>
    public int SlowDiskMs { get; private set; } = 300;

    /// <summary>Soak minutes (0 = no soak): one run that long, a fault every minute, per-minute RSS, disk use and latency, a growth verdict.</summary>
    public int SoakMinutes { get; private set; }

    /// <summary>Growth (percent) of the soak's last third over its middle third beyond which a figure is flagged.</summary>
    public int SoakGrowthPercent { get; private set; } = 25;

    /// <summary>A silo process's RSS climbing faster than this (MiB per minute, fitted) over a soak is flagged.</summary>
    public double SoakRssSlope { get; private set; } = 1.0;

    /// <summary>Closed-loop workers per shard; each works only on its shard's keys, so one shard's stall cannot hold another's worker.</summary>
    public int WorkersPerShard { get; private set; } = 2;

    /// <summary>Separate Orleans client hosts the workers are spread over.</summary>
    public int Clients { get; private set; } = 2;

    public int KeysPerShard { get; private set; } = 6;

    /// <summary>Failover trials per fault type (kill, pause) after the chaos runs; 0 = none.</summary>
    public int FailoverTrials { get; private set; }

    /// <summary>Fault types of the failover trials: kill (SIGKILL, restart) and pause (SIGSTOP, SIGCONT).</summary>
    public IReadOnlyList<FaultKind> FailoverFaults { get; private set; } = [FaultKind.Kill, FaultKind.Pause];

    /// <summary>How long each failover trial's fault lasts (recovery later than this is reported as censored).</summary>
    public TimeSpan FailoverHold { get; private set; } = TimeSpan.FromSeconds(5);

    public string? JsonPath { get; private set; }

    /// <summary>netns (namespaces, veth, nftables; needs root), loopback (no partitions) or auto.</summary>
    public string Network { get; private set; } = "auto";

    /// <summary>Size of the tmpfs holding the disk-fault store's data.</summary>
    public int DiskMegabytes { get; private set; } = 96;

    /// <summary>Raft log entries between snapshots; small, so leader kills land during snapshots and log compaction.</summary>
    public int SnapshotEntries { get; private set; } = 300;

    public TimeSpan FaultMin { get; private set; } = TimeSpan.FromSeconds(2);

    public TimeSpan FaultMax { get; private set; } = TimeSpan.FromSeconds(6);

    public TimeSpan GapMin { get; private set; } = TimeSpan.FromSeconds(3);

    public TimeSpan GapMax { get; private set; } = TimeSpan.FromSeconds(7);

    public TimeSpan OperationTimeout { get; private set; } = TimeSpan.FromSeconds(10);

    public bool KeepData { get; private set; }

    /// <summary>Writes the SDK's slow or retried operations, with each retry's reason and store, to client-trace.log in the run's folder (kept).</summary>
    public bool TraceClient { get; private set; }

    public bool Etcd { get; private set; }

    /// <summary>Replica timing passed to every silo (--Replicas:TickInterval/ElectionTicks/HeartbeatTicks); null = the silo's default.</summary>
    public int? TickMs { get; private set; }

    public int? ElectionTicks { get; private set; }

    public int? HeartbeatTicks { get; private set; }

    /// <summary>The SDK's attempt timeout (NoKvClientOptions.AttemptTimeout); null = its default.</summary>
    public int? AttemptTimeoutMs { get; private set; }

    public static ChaosOptions Parse(string[] args)
    {
        var o = new ChaosOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            TimeSpan Seconds() => TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
            switch (args[i])
            {
                case "--silos": o.Silos = Int(); break;
                case "--runs": o.Runs = Int(); break;
                case "--duration": o.Duration = Seconds(); break;
                case "--seed": o.Seed = Int(); break;
                case "--faults": o.Faults = Next() is "none" ? [] : args[i].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(FaultNames.Parse).Distinct().ToArray(); break;
                case "--tick-ms": o.TickMs = Int(); break;
                case "--election-ticks": o.ElectionTicks = Int(); break;
                case "--heartbeat-ticks": o.HeartbeatTicks = Int(); break;
                case "--attempt-timeout-ms": o.AttemptTimeoutMs = Int(); break;
                case "--workers-per-shard": o.WorkersPerShard = Int(); break;
                case "--clients": o.Clients = Int(); break;
                case "--keys-per-shard": o.KeysPerShard = Int(); break;
                case "--failover-trials": o.FailoverTrials = Int(); break;
                case "--failover-faults": o.FailoverFaults = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(FaultNames.Parse).Distinct().ToArray(); break;
                case "--failover-hold": o.FailoverHold = Seconds(); break;
                case "--json": o.JsonPath = Next(); break;
                case "--network": o.Network = Next(); break;
                case "--disk-mb": o.DiskMegabytes = Int(); break;
                case "--snapshot-entries": o.SnapshotEntries = Int(); break;
                case "--fault-min": o.FaultMin = Seconds(); break;
                case "--fault-max": o.FaultMax = Seconds(); break;
                case "--gap-min": o.GapMin = Seconds(); break;
                case "--gap-max": o.GapMax = Seconds(); break;
                case "--operation-timeout": o.OperationTimeout = Seconds(); break;
                case "--keep": o.KeepData = true; break;
                case "--trace-client": o.TraceClient = true; o.KeepData = true; break;
                case "--etcd": o.Etcd = true; break;
                case "--slow-disk-ms": o.SlowDiskMs = Int(); break;
                case "--soak": o.SoakMinutes = Int(); break;
                case "--soak-growth": o.SoakGrowthPercent = Int(); break;
                case "--soak-rss-slope": o.SoakRssSlope = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        bool faultsGiven = args.Contains("--faults");
        if (o.SoakMinutes < 0 || o.SlowDiskMs < 0 || o.SoakGrowthPercent <= 0 || !(o.SoakRssSlope > 0))
        {
            throw new ArgumentException("--soak, --slow-disk-ms, --soak-growth and --soak-rss-slope must not be negative (--soak-growth and --soak-rss-slope above 0)");
        }

        if (o.SoakMinutes > 0)
        {
            // A soak is one long run with a fault a minute (docs/chaos.md "Soak"); what it can be combined with is kept simple.
            if (o.Etcd || o.FailoverTrials > 0 || args.Contains("--runs") || args.Contains("--duration"))
            {
                throw new ArgumentException("--soak sets its own run and duration; it does not combine with --runs, --duration, --etcd or --failover-trials");
            }

            if (o.SoakMinutes < 3)
            {
                throw new ArgumentException("--soak needs at least 3 minutes (its growth check compares thirds)");
            }

            o.Runs = 1;
            o.Duration = TimeSpan.FromMinutes(o.SoakMinutes);
            if (!faultsGiven)
            {
                o.Faults = Enum.GetValues<FaultKind>();
            }
        }

        if (o.Silos is not (3 or 5))
        {
            throw new ArgumentException("--silos must be 3 or 5");
        }

        if (o.FailoverFaults.Any(k => k is not (FaultKind.Kill or FaultKind.Pause)))
        {
            throw new ArgumentException("--failover-faults takes kill and pause");
        }

        if (o.Network is not ("auto" or "netns" or "loopback"))
        {
            throw new ArgumentException("--network must be auto, netns or loopback");
        }

        if (o.Runs < 0 || o.WorkersPerShard < 1 || o.Clients < 1 || o.KeysPerShard < 1 || o.FailoverTrials < 0 || o.FaultMin > o.FaultMax || o.GapMin > o.GapMax)
        {
            throw new ArgumentException("counts must be positive and every min at most its max");
        }

        return o;
    }

    private string Timing() =>
        TickMs is null && ElectionTicks is null && HeartbeatTicks is null && AttemptTimeoutMs is null ? ""
        : $", tick {TickMs?.ToString(CultureInfo.InvariantCulture) ?? "default"} ms, election {ElectionTicks?.ToString(CultureInfo.InvariantCulture) ?? "default"} ticks, heartbeat {HeartbeatTicks?.ToString(CultureInfo.InvariantCulture) ?? "default"} ticks, attempt timeout {AttemptTimeoutMs?.ToString(CultureInfo.InvariantCulture) ?? "default"} ms";

    public string Describe() => DescribeRun() +
        (Faults.Contains(FaultKind.SlowDisk) ? string.Create(CultureInfo.InvariantCulture, $", slow disk {SlowDiskMs} ms per sync") : "") +
        (SoakMinutes > 0 ? string.Create(CultureInfo.InvariantCulture, $", soak {SoakMinutes} min (growth flagged above {SoakGrowthPercent} %, RSS slope above {SoakRssSlope} MiB/min)") : "");

    private string DescribeRun() => string.Create(CultureInfo.InvariantCulture,
        $"silos {Silos}, runs {Runs}, duration {Duration.TotalSeconds:F0} s, seed {Seed}, faults {string.Join(",", Faults.Select(FaultNames.Name))}, " +
        $"clients {Clients}, workers/shard {WorkersPerShard}, keys/shard {KeysPerShard}, fault {FaultMin.TotalSeconds:F0}-{FaultMax.TotalSeconds:F0} s, gap {GapMin.TotalSeconds:F0}-{GapMax.TotalSeconds:F0} s, " +
        $"snapshot every {SnapshotEntries} entries{Timing()}, failover trials {FailoverTrials} x {string.Join(",", FailoverFaults.Select(FaultNames.Name))} held {FailoverHold.TotalSeconds:F0} s");
}
