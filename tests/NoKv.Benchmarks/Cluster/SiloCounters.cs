using System.Globalization;
using System.Text;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// What a point cost the silos, counted by the silos themselves (their Prometheus text at /metrics), summed over the
/// silos and divided by the operations the point completed: Raft Readies, ticks and messages, transport envelopes and
/// groups, engine write groups and WAL syncs, hibernation changes. On a CPU-bound machine throughput follows this work
/// per operation, so comparing two layouts (16 against 1,000 shards) line by line says where the difference goes.
/// </summary>
public sealed class SiloCounters
{

    // Printed name, metric name prefix (the counter's Prometheus name; every label set is summed).
    private static readonly (string Name, string Metric)[] Counted =
    [
        ("entries", "nokv_raft_entries_appended_total"),
        ("readies", "nokv_raft_readies_total"),
        ("ticks", "nokv_raft_ticks_total"),
        ("messages", "nokv_raft_messages_sent_total"),
        ("groups", "nokv_raft_transport_groups_total"),
        ("envelopes", "nokv_raft_transport_envelopes_total"),
        ("engine writes", "nokv_storage_write_groups_total"),
        ("wal syncs", "nokv_storage_wal_syncs_total"),
        ("sleeps+wakes", "nokv_replica_hibernations_total"),
        ("", "nokv_replica_request_duration_seconds_sum"),
        ("", "nokv_replica_request_duration_seconds_count"),
        ("", "nokv_raft_commit_duration_seconds_sum"),
        ("", "nokv_raft_commit_duration_seconds_count"),
        ("", "nokv_raft_append_duration_seconds_sum"),
        ("", "nokv_raft_append_duration_seconds_count"),
    ];

    // Histograms printed as their mean over the point (sum and count are the unnamed entries above, in this order).
    private static readonly string[] Means = ["replica request", "propose to apply", "ready write"];

    // Sums of seconds are kept in microseconds.
    private const double SumScale = 1e6;

    private readonly long[] _values;

    private SiloCounters(long[] values, bool complete)
    {
        _values = values;
        Complete = complete;
    }

    /// <summary>False if a silo's /metrics did not answer.</summary>
    public bool Complete { get; }

    /// <summary>Sums the counters over the silos at <paramref name="httpPorts"/>.</summary>
    public static async Task<SiloCounters> ReadAsync(IReadOnlyList<int> httpPorts, CancellationToken cancellationToken)
    {
        var values = new long[Counted.Length];
        var (lines, complete) = await SiloMetricsText.ReadAsync(httpPorts, cancellationToken).ConfigureAwait(false);
        foreach (var line in lines)
        {
            for (int i = 0; i < Counted.Length; i++)
            {
                string metric = Counted[i].Metric;
                if (line.StartsWith(metric, StringComparison.Ordinal) && line.Length > metric.Length && line[metric.Length] is '{' or ' ')
                {
                    values[i] += metric.EndsWith("_sum", StringComparison.Ordinal) ? (long)(ValueDouble(line) * SumScale) : Value(line);
                }
            }
        }

        return new SiloCounters(values, complete);
    }

    /// <summary>The growth from <paramref name="before"/> to <paramref name="after"/> per completed operation, as printed.</summary>
    public static string PerOperation(SiloCounters before, SiloCounters after, long operations)
    {
        if (!before.Complete || !after.Complete)
        {
            return "silo work per operation: n/a (a silo's /metrics did not answer)";
        }

        double n = Math.Max(1, operations);
        var line = new StringBuilder("silo work per operation:");
        int counters = Counted.Length - (2 * Means.Length);
        for (int i = 0; i < counters; i++)
        {
            line.Append(CultureInfo.InvariantCulture, $" {Counted[i].Name} {(after._values[i] - before._values[i]) / n:F2}{(i + 1 < counters ? "," : "")}");
        }

        line.Append("; mean ms:");
        for (int m = 0; m < Means.Length; m++)
        {
            int sum = counters + (2 * m);
            double count = after._values[sum + 1] - before._values[sum + 1];
            double mean = count <= 0 ? double.NaN : (after._values[sum] - before._values[sum]) / SumScale / count * 1000;
            line.Append(CultureInfo.InvariantCulture, $" {Means[m]} {mean:F2}{(m + 1 < Means.Length ? "," : "")}");
        }

        return line.ToString();
    }

    private static long Value(string line) => (long)ValueDouble(line);

    private static double ValueDouble(string line)
    {
        int space = line.LastIndexOf(' ');
        return space > 0 && double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : 0;
    }
}
