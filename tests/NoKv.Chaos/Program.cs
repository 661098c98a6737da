using System.Globalization;
using System.Text.Json;
using NoKv.Chaos;
using NoKv.Chaos.Failover;
using NoKv.Chaos.Reporting;

// The chaos harness: real silo processes, a closed-loop workload through the SDK, seeded faults, a linearizability
// check and a read of every key after a whole-cluster crash. Exit code 0 = no violation, no lost write; 1 = one was
// found; 2 = bad arguments or the harness itself failed. See docs/chaos.md.
ChaosOptions options;
try
{
    options = ChaosOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

var log = Console.Out;
var environment = await HarnessEnvironment.DetectAsync(options);
var report = new ChaosReport
{
    Options = options.Describe(),
    Machine = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, load average {LoadAverage()} at start"),
};
log.WriteLine($"[chaos] {report.Options}; network {environment.Network}; {report.Machine}");
foreach (var skipped in environment.Skipped)
{
    log.WriteLine($"[chaos] not injected: {skipped}");
}

try
{
    for (int run = 0; run < options.Runs; run++)
    {
        var result = await ChaosRun.RunAsync(run, options, environment, log);
        report.Runs.Add(result);
        ReportPrinter.PrintRun(result, log);
    }

    if (options.Runs > 0)
    {
        ReportPrinter.PrintTotal(report.Runs, log);
    }

    if (options.Etcd && options.Runs > 0)
    {
        // The anchor: the same seeds (so the same fault schedule), workload and checks against etcd.
        var etcdRuns = new List<RunReport>();
        for (int run = 0; run < options.Runs; run++)
        {
            var result = await ChaosRun.RunAsync(run, options, environment, log, etcd: true);
            etcdRuns.Add(result);
            ReportPrinter.PrintRun(result, log);
        }

        log.WriteLine("etcd:");
        ReportPrinter.PrintTotal(etcdRuns, log);
        ReportPrinter.PrintSideBySide(report.Runs.ToList(), etcdRuns, log);
        report.Runs.AddRange(etcdRuns);
    }

    if (options.FailoverTrials > 0)
    {
        var (trials, check) = await FailoverTrials.RunAsync(options, environment, log);
        report.Failover.AddRange(trials);
        report.Runs.Add(check);
        ReportPrinter.PrintFailover(trials, log);
        log.WriteLine("failover trials' history:");
        ReportPrinter.PrintTotal([check], log);
    }
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: the harness failed: {e}");
    return 2;
}
finally
{
    if (options.JsonPath is not null)
    {
        await File.WriteAllTextAsync(options.JsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }
}

bool failed = report.Runs.Any(r => r.Violations.Count + r.LostWrites.Count + r.UnreadKeys.Count + r.Undecided.Count > 0);
log.WriteLine(failed ? "RESULT: FAILED (violations, lost writes, unreadable or undecided keys above)" : "RESULT: no violation, no lost acknowledged write");
return failed ? 1 : 0;

static string LoadAverage()
{
    try
    {
        return File.ReadAllText("/proc/loadavg").Split(' ')[0];
    }
    catch (IOException)
    {
        return "unknown";
    }
}
