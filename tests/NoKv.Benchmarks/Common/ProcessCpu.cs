using System.Diagnostics;

namespace NoKv.Benchmarks.Common;

/// <summary>
/// CPU time (user + system) consumed by a set of processes. On a machine where the cores are the
/// bottleneck, as the 2-core one this benchmark runs on, CPU time per operation is a steadier measure
/// of a system's cost than throughput, which moves with whatever else the machine is doing.
/// </summary>
public static class ProcessCpu
{
    /// <summary>Sum of the processes' CPU time; a process that has exited counts as zero.</summary>
    public static TimeSpan Total(IReadOnlyList<int> processIds)
    {
        var total = TimeSpan.Zero;
        foreach (var id in processIds)
        {
            try
            {
                using var process = Process.GetProcessById(id);
                total += process.TotalProcessorTime;
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
            {
                // Gone (or never there): it uses no CPU any more.
            }
        }
        return total;
    }

    /// <summary>CPU time of this process, all threads.</summary>
    public static TimeSpan Self()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
