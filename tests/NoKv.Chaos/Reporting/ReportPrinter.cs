using System.Globalization;

namespace NoKv.Chaos.Reporting;

/// <summary>The text report: each run, the total over runs, and the failover figures.</summary>
public static class ReportPrinter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void PrintRun(RunReport run, TextWriter output)
    {
        output.WriteLine(string.Create(Inv, $"{(run.System == "nokv" ? "" : run.System + " ")}run {run.Run} (seed {run.Seed}, {run.Silos} silos, {run.Network}, {run.Seconds:F0} s):"));
        PrintFigures([run], output);
        foreach (var line in run.FaultLog)
        {
            output.WriteLine($"    {line}");
        }

        if (run.Soak.Count > 0)
        {
            PrintSoak(run, output);
        }
    }

    /// <summary>The soak's minutes again (as printed while it ran) and whether anything grew (docs/chaos.md "Soak").</summary>
    public static void PrintSoak(RunReport run, TextWriter output)
    {
        output.WriteLine(string.Create(Inv, $"soak: {run.Soak.Count} minutes, every minute's figures:"));
        output.WriteLine(Soak.SoakMonitor.Header(run.Soak.Max(m => m.RssMiB.Length)));
        foreach (var minute in run.Soak)
        {
            output.WriteLine(Soak.SoakMonitor.Format(minute));
        }

        output.WriteLine("soak growth, median of the middle third of the minutes -> median of the last third:");
        foreach (var f in run.Growth)
        {
            output.WriteLine(string.Create(Inv,
                $"  {f.Series,-22} {f.Middle,9:F1} -> {f.Last,9:F1} {f.Unit,-3} ({f.GrowthPercent:+0;-0;0} %){(f.Flagged ? f.Unit.Length == 0 ? "  FALLING" : "  GROWING" : "")}{(f.Judged ? "" : "  (not judged: file-backed and shared pages included)")}"));
        }

        output.WriteLine("soak memory slope per silo process that lived through at least half of the soak, fitted after its first third (anonymous memory judged):");
        if (run.RssSlopes.Count == 0)
        {
            output.WriteLine("  (no silo process lived that long)");
        }

        foreach (var s in run.RssSlopes)
        {
            output.WriteLine(string.Create(Inv,
                $"  store {s.Store} {s.Series} (pid {s.Pid}, minutes {s.LivedFrom}-{s.LivedTo}, fitted {s.FitFrom}-{s.LivedTo}) {s.MiBPerMinute:+0.00;-0.00;0.00} MiB/min ({s.GrowthMiB:+0;-0;0} MiB){(s.Series == "RSS" ? "" : $"; whole RSS {s.RssMiBPerMinute:+0.00;-0.00;0.00} MiB/min")}{(s.Flagged ? "  GROWING" : "")}"));
        }

        int flagged = run.Growth.Count(f => f.Flagged) + run.RssSlopes.Count(s => s.Flagged);
        output.WriteLine(flagged == 0
            ? "soak: nothing grew beyond the threshold"
            : string.Create(Inv, $"soak: {flagged} series flagged (GROWING or FALLING above)"));
    }

    public static void PrintTotal(IReadOnlyList<RunReport> runs, TextWriter output)
    {
        output.WriteLine($"total over {runs.Count} run(s):");
        PrintFigures(runs, output);
    }

    private static void PrintFigures(IReadOnlyList<RunReport> runs, TextWriter output)
    {
        var faults = runs.SelectMany(r => r.FaultsByType).GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.Sum(f => f.Value));
        output.WriteLine(string.Create(Inv,
            $"  operations {runs.Sum(r => r.OperationsOk + r.OperationsUnknown)} ({runs.Sum(r => r.OperationsUnknown)} with unknown outcome), keys checked {runs.Sum(r => r.KeysChecked)}"));
        output.WriteLine($"  faults injected: {(faults.Count == 0 ? "none" : string.Join(", ", faults.OrderBy(f => f.Key).Select(f => $"{f.Key} {f.Value}")))}");
        output.WriteLine(string.Create(Inv,
            $"  linearizability violations {runs.Sum(r => r.Violations.Count)}, lost acknowledged writes {runs.Sum(r => r.LostWrites.Count)}, keys unreadable after restart {runs.Sum(r => r.UnreadKeys.Count)}, undecided keys {runs.Sum(r => r.Undecided.Count)}"));
        output.WriteLine($"  during the workload: {runs.Sum(r => r.Elections)} new leaders (transfers included), {runs.Sum(r => r.ElectionTimeouts)} election timeouts fired (pre-candidates)");
        foreach (var type in runs.SelectMany(r => r.WindowsMs.Keys).Distinct().Order())
        {
            var sample = runs.SelectMany(r => r.WindowsMs.GetValueOrDefault(type) ?? []).ToList();
            output.WriteLine($"  unavailability window {type}: {Percentiles.Summary(sample)}");
        }

        int exits = runs.Sum(r => r.UnexpectedExits.Count);
        int diskFull = runs.Sum(r => r.DiskFullExits);
        output.WriteLine($"  silo exits the harness did not cause: {exits}{(diskFull > 0 ? $" (besides {diskFull} on a full disk, exit code 6, by design)" : "")}");
        foreach (var exit in runs.SelectMany(r => r.UnexpectedExits).Take(10))
        {
            output.WriteLine($"    {exit}");
        }

        var failures = runs.SelectMany(r => r.Failures).GroupBy(f => f.Key).Select(g => $"{g.Key} {g.Sum(f => f.Value)}").ToList();
        if (failures.Count > 0)
        {
            output.WriteLine($"  failed operations by error: {string.Join(", ", failures)}");
        }

        foreach (var skipped in runs.SelectMany(r => r.SkippedFaults).Distinct())
        {
            output.WriteLine($"  not injected: {skipped}");
        }

        foreach (var problem in runs.SelectMany(r => r.Violations.Concat(r.LostWrites).Concat(r.UnreadKeys).Concat(r.Undecided)).Take(5))
        {
            output.WriteLine($"  ! {problem}");
        }
    }

    /// <summary>Unavailability windows per fault type, NoKV beside the etcd anchor run with the same seeds.</summary>
    public static void PrintSideBySide(IReadOnlyList<RunReport> nokv, IReadOnlyList<RunReport> etcd, TextWriter output)
    {
        output.WriteLine($"unavailability windows, NoKV vs etcd ({nokv.Count} vs {etcd.Count} run(s), same seeds):");
        foreach (var type in nokv.Concat(etcd).SelectMany(r => r.WindowsMs.Keys).Distinct().Order())
        {
            var ours = nokv.SelectMany(r => r.WindowsMs.GetValueOrDefault(type) ?? []).ToList();
            var theirs = etcd.SelectMany(r => r.WindowsMs.GetValueOrDefault(type) ?? []).ToList();
            output.WriteLine($"  {type,-12} nokv {Percentiles.Summary(ours),-44} | etcd {Percentiles.Summary(theirs)}");
        }
    }

    public static void PrintFailover(IReadOnlyList<FailoverTrial> trials, TextWriter output)
    {
        foreach (var kind in trials.Select(t => t.Kind).Distinct())
        {
            var mine = trials.Where(t => t.Kind == kind).ToList();
            double hold = mine.Max(t => t.HeldMs);
            var sample = mine.SelectMany(t => t.RecoveryMs).Select(r => r ?? hold).ToList();
            int censored = mine.Sum(t => t.RecoveryMs.Count(r => r is null));
            int kept = mine.Count(t => t.OtherShardsMinRatio >= 0.5);
            output.WriteLine(string.Create(Inv,
                $"failover {kind}: {mine.Count} trials, {sample.Count} led shards; served again after {Percentiles.Summary(sample)}{(censored > 0 ? $" ({censored} not within the {hold:F0} ms fault, counted at it)" : "")}; target p99 <= 2000 ms: {(Percentiles.At(sample, 99) <= 2000 && censored == 0 ? "met" : "MISSED")}"));
            output.WriteLine(string.Create(Inv,
                $"failover {kind}: other shards above half their throughput in every second: {kept} of {mine.Count} trials (lowest second {mine.Min(t => t.OtherShardsMinRatio):P0} of before)"));
        }
    }
}
