using System.Diagnostics;
using System.Globalization;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The idle figure of issue 11 section 4: each silo's CPU, in percent of one core, over a window in which no client
/// sends anything. Read from the kernel's per-process accounting (<see cref="Process.TotalProcessorTime"/> is utime +
/// stime of /proc/&lt;pid&gt;/stat on Linux). The load average is printed beside it: on a shared machine a silo that waits
/// for a core burns no more CPU, but its timers fire late, which changes what it does per second.
/// </summary>
public static class IdleCpu
{
    /// <summary>How long the cluster is left alone before the window opens: start-up work (JIT, the probe writes, leader
    /// balancing, flushes) ends and idle shards get the time they need to go quiet.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    public static async Task MeasureAsync(IReadOnlyList<SiloProcess> silos, int shards, TimeSpan window, TextWriter output, TextWriter log, CancellationToken cancellationToken)
    {
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[nokv] idle: settling {Settle.TotalSeconds:F0} s, then measuring {window.TotalSeconds:F0} s"));
        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
        string loadBefore = LoadAverage();
        var before = new TimeSpan[silos.Count];
        for (int i = 0; i < silos.Count; i++)
        {
            before[i] = ProcessCpu.Total([silos[i].ProcessId]);
        }

        var started = Stopwatch.GetTimestamp();
        await Task.Delay(window, cancellationToken).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var line = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture, $"idle cpu, {shards} shards, {elapsed.TotalSeconds:F1} s:"));
        for (int i = 0; i < silos.Count; i++)
        {
            var used = ProcessCpu.Total([silos[i].ProcessId]) - before[i];
            line.Append(string.Create(CultureInfo.InvariantCulture, $" store {silos[i].StoreId} {100 * used / elapsed:F1}%"));
        }

        line.Append(string.Create(CultureInfo.InvariantCulture, $" of one core (target < 5%); load average {loadBefore} -> {LoadAverage()}"));
        output.WriteLine(line);
        log.WriteLine(line);
    }

    /// <summary>The first three fields of /proc/loadavg, or "?" where there is none.</summary>
    public static string LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', fields.Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
