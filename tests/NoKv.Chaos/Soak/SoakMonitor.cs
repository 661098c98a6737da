using System.Globalization;
using NoKv.Chaos.Cluster;
using NoKv.Chaos.Faults;
using NoKv.Chaos.Reporting;
using NoKv.Chaos.Workload;

namespace NoKv.Chaos.Soak;

/// <summary>
/// Samples a soak once a minute and prints the minute at once (a long run shows its trend while it runs): operations
/// and latency of the minute from the workload, each silo's resident memory from /proc, each store's data directory
/// size, and the faults that started in the minute. Cheap next to the workload: one /proc read per silo, one walk of
/// each data directory.
/// </summary>
public sealed class SoakMonitor
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly ChaosCluster _cluster;
    private readonly ClosedLoopWorkload _workload;
    private readonly FaultInjector _injector;
    private readonly RunClock _clock;
    private readonly TextWriter _log;
    private readonly List<SoakSample> _samples = new();

    public SoakMonitor(ChaosCluster cluster, ClosedLoopWorkload workload, FaultInjector injector, RunClock clock, TextWriter log)
    {
        _cluster = cluster;
        _workload = workload;
        _injector = injector;
        _clock = clock;
        _log = log;
    }

    public IReadOnlyList<SoakSample> Samples => _samples;

    /// <summary>Samples at every whole minute of the run clock until <paramref name="stop"/>; the minute cut short by it is sampled too.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        int nodes = _cluster.Nodes.Count;
        _log.WriteLine(Header(nodes));
        long failedBefore = 0;
        for (int minute = 1; ; minute++)
        {
            var due = TimeSpan.FromMinutes(minute) - TimeSpan.FromMilliseconds(RunClock.ToMilliseconds(_clock.Now));
            bool stopped = false;
            try
            {
                await Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, stop);
            }
            catch (OperationCanceledException)
            {
                stopped = true;
            }

            long failed = _workload.FailedCount;
            var sample = Sample(minute, failed - failedBefore);
            failedBefore = failed;
            // The stop lands at the last whole minute, give or take the scheduler: a minute it cut short by a few
            // seconds counts, the sliver after the last whole minute does not.
            if (!stopped || RunClock.ToMilliseconds(_clock.Now) - TimeSpan.FromMinutes(minute - 1).TotalMilliseconds >= 45_000)
            {
                _samples.Add(sample);
                _log.WriteLine(Format(sample));
            }

            if (stopped)
            {
                return;
            }
        }
    }

    /// <summary>The column heads of <see cref="Format"/> for a cluster of <paramref name="nodes"/> silos.</summary>
    public static string Header(int nodes)
    {
        string stores = string.Join(" ", Enumerable.Range(1, nodes).Select(s => $"s{s}".PadLeft(5)));
        return $"[soak] minute   ops  failed  p50 ms  p99 ms  max ms | RSS MiB {stores} | anon MiB {stores} | disk MiB {stores} | harness MiB | faults";
    }

    /// <summary>
    /// One minute's line. Each silo's memory twice: its whole resident set (VmRSS) and the anonymous part of it (RssAnon,
    /// what the growth verdict judges; the rest is file-backed pages and the runtime's shared code mappings).
    /// </summary>
    public static string Format(SoakSample m) => string.Create(Inv,
        $"[soak] {m.Minute,6} {m.Operations,6} {m.Failed,6} {m.P50Ms,7:F1} {m.P99Ms,7:F1} {m.MaxMs,7:F0} |         {string.Join(" ", m.RssMiB.Select(Show))} |          {string.Join(" ", (m.AnonMiB ?? m.RssMiB.Select(_ => -1.0).ToArray()).Select(Show))} |          {string.Join(" ", m.DiskMiB.Select(Show))} | {m.HarnessRssMiB,11:F0} | {(m.Faults.Length == 0 ? "-" : m.Faults)}");

    private static string Show(double value) => value < 0 ? "    -" : value.ToString("F0", Inv).PadLeft(5);

    private SoakSample Sample(int minute, long failed)
    {
        var latencies = _workload.DrainLatencies().Select(t => RunClock.ToMilliseconds(t)).ToList();
        long from = RunClock.FromMilliseconds(TimeSpan.FromMinutes(minute - 1).TotalMilliseconds);
        long to = RunClock.FromMilliseconds(TimeSpan.FromMinutes(minute).TotalMilliseconds);
        string faults = string.Join(", ", _injector.Faults.ToArray().Where(f => f.Start >= from && f.Start < to)
            .Select(f => $"{FaultNames.Name(f.Kind)} [{string.Join(",", f.Stores)}]"));
        var memory = _cluster.Nodes.Select(n => n.IsRunning && n.ProcessId is int pid ? ResidentMiB(pid) : (Rss: -1.0, Anon: -1.0)).ToArray();
        return new SoakSample(
            minute,
            latencies.Count,
            failed,
            latencies.Count == 0 ? 0 : Percentiles.At(latencies, 50),
            latencies.Count == 0 ? 0 : Percentiles.At(latencies, 99),
            latencies.Count == 0 ? 0 : latencies.Max(),
            memory.Select(m => m.Rss).ToArray(),
            _cluster.Nodes.Select(n => DirectoryMiB(n.DataDirectory)).ToArray(),
            Environment.WorkingSet / 1048576.0,
            faults,
            _cluster.Nodes.Select(n => n.IsRunning && n.ProcessId is int pid ? pid : -1).ToArray(),
            memory.Select(m => m.Anon).ToArray());
    }

    /// <summary>VmRSS and RssAnon of a process in MiB, each -1 when it is gone (or the kernel does not report it).</summary>
    internal static (double Rss, double Anon) ResidentMiB(int pid)
    {
        try
        {
            return ParseStatus(File.ReadLines($"/proc/{pid.ToString(Inv)}/status"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited between the check and the read.
            return (-1, -1);
        }
    }

    /// <summary>VmRSS and RssAnon from the lines of /proc/PID/status, in MiB (-1 for a field that is missing or unreadable).</summary>
    internal static (double Rss, double Anon) ParseStatus(IEnumerable<string> lines)
    {
        double rss = -1, anon = -1;
        foreach (string line in lines)
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line.AsSpan(6));
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = Kilobytes(line.AsSpan(8));
            }
        }

        return (rss, anon);

        static double Kilobytes(ReadOnlySpan<char> value) =>
            long.TryParse(value.Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, Inv, out long kb) ? kb / 1024.0 : -1;
    }

    /// <summary>Bytes of every file under a directory, in MiB (files vanishing under compaction are skipped).</summary>
    internal static double DirectoryMiB(string directory)
    {
        long bytes = 0;
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                try
                {
                    bytes += file.Length;
                }
                catch (IOException)
                {
                    // Deleted while listed.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }

        return bytes / 1048576.0;
    }
}
