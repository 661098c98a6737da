using System.Globalization;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Raft work counted by the silos themselves, read from each silo's Prometheus text at /metrics: proposals the
/// leaders accepted (one per Raft entry a request or the replica proposed) and entries appended (on every replica,
/// so about three per proposal with three replicas). Read before and after a point, it says how many entries an
/// operation costs, which on a CPU-bound machine is what throughput follows. Counts every group, the controller's too.
/// </summary>
public readonly record struct RaftCounters(long Proposals, long Appended, bool Complete)
{
    /// <summary>Sums the counters over the silos at <paramref name="httpPorts"/>; not <see cref="Complete"/> if one did not answer.</summary>
    public static async Task<RaftCounters> ReadAsync(IReadOnlyList<int> httpPorts, CancellationToken cancellationToken)
    {
        long proposals = 0, appended = 0;
        var (lines, complete) = await SiloMetricsText.ReadAsync(httpPorts, cancellationToken).ConfigureAwait(false);
        foreach (var line in lines)
        {
            if (line.StartsWith("nokv_raft_proposals_total{", StringComparison.Ordinal) && line.Contains("result=\"accepted\"", StringComparison.Ordinal))
            {
                proposals += Value(line);
            }
            else if (line.StartsWith("nokv_raft_entries_appended_total{", StringComparison.Ordinal))
            {
                appended += Value(line);
            }
        }

        return new RaftCounters(proposals, appended, complete);
    }

    /// <summary>The counters' growth from <paramref name="before"/> to <paramref name="after"/>; not complete if either read was not.</summary>
    public static RaftCounters Difference(RaftCounters before, RaftCounters after) =>
        new(after.Proposals - before.Proposals, after.Appended - before.Appended, before.Complete && after.Complete);

    /// <summary>Two growths added up (the slices of one interleaved point); not complete if either was not.</summary>
    public static RaftCounters operator +(RaftCounters x, RaftCounters y) =>
        new(x.Proposals + y.Proposals, x.Appended + y.Appended, x.Complete && y.Complete);

    /// <summary>A growth (<see cref="Difference"/>) per committed operation, as printed.</summary>
    public static string PerOperation(RaftCounters growth, long committed)
    {
        if (!growth.Complete)
        {
            return "raft per committed operation: n/a (a silo's /metrics did not answer)";
        }

        double n = Math.Max(1, committed);
        return string.Create(CultureInfo.InvariantCulture,
            $"raft per committed operation: {growth.Proposals / n:F2} entries proposed, {growth.Appended / n:F2} appended over all replicas");
    }

    private static long Value(string line)
    {
        int space = line.LastIndexOf(' ');
        return space > 0 && double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? (long)v : 0;
    }
}
