using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>The side-by-side tables (NoKv, RocksDB, ratios) and the JSON file of a YCSB run.</summary>
public sealed class YcsbReport
{
    private const double MiB = 1024.0 * 1024.0;

    // The write of each workload whose tail the JSON reports as write_p99_us: at most one of these is present.
    private static readonly string[] WriteOperations = ["update", "rmw", "insert"];

    private readonly List<YcsbRunResult> _results;

    public YcsbReport(List<YcsbRunResult> results) => _results = results;

    public bool HasFailures => _results.Exists(r => r.Error is not null);

    public void Print(TextWriter output)
    {
        string header = $"{"wl",-4} {"op",-6} | {"nokv ops/s",11} {"p50 us",8} {"p99 us",8} {"p999 us",9} {"max us",10} | " +
                        $"{"rocksdb ops/s",13} {"p50 us",8} {"p99 us",8} {"p999 us",9} {"max us",10} | {"ops/s",6} {"p99",6} {"p999",6}";
        output.WriteLine(header);
        output.WriteLine(new string('-', header.Length));
        foreach (YcsbWorkload workload in YcsbWorkload.All)
        {
            YcsbRunResult? nokv = Find(workload.Name, "nokv");
            YcsbRunResult? rocks = Find(workload.Name, "rocksdb");
            var operations = new SortedSet<string>(StringComparer.Ordinal);
            foreach (YcsbRunResult? r in new[] { nokv, rocks })
            {
                if (r is not null)
                {
                    operations.UnionWith(r.Ops.Keys);
                }
            }

            bool first = true;
            foreach (string op in operations)
            {
                YcsbOperationStats? n = nokv?.Ops.GetValueOrDefault(op);
                YcsbOperationStats? k = rocks?.Ops.GetValueOrDefault(op);
                string nOps = first && nokv is not null ? Units.Rate(nokv.OpsPerSec) : "";
                string kOps = first && rocks is not null ? Units.Rate(rocks.OpsPerSec) : "";
                string opsRatio = first && nokv is not null && rocks is not null ? Units.Ratio(nokv.OpsPerSec / rocks.OpsPerSec) : "";
                output.WriteLine(
                    $"{(first ? workload.Name : ""),-4} {op,-6} | {nOps,11} {Us(n?.P50Us),8} {Us(n?.P99Us),8} {Us(n?.P999Us),9} {Us(n?.MaxUs),10} | " +
                    $"{kOps,13} {Us(k?.P50Us),8} {Us(k?.P99Us),8} {Us(k?.P999Us),9} {Us(k?.MaxUs),10} | " +
                    $"{opsRatio,6} {Ratio(n?.P99Us, k?.P99Us),6} {Ratio(n?.P999Us, k?.P999Us),6}");
                first = false;
            }
        }

        output.WriteLine();
        output.WriteLine("ops/s ratio is nokv/rocksdb (above 1: nokv faster); latency ratios are nokv/rocksdb (below 1: nokv faster).");
        output.WriteLine();
        string memoryHeader = $"{"wl",-4} | {"nokv disk",10} {"sst",4} {"sst/live",8} {"rss MiB",8} {"anon MiB",9} | " +
                              $"{"rocksdb disk",12} {"sst",4} {"sst/live",8} {"rss MiB",8} {"anon MiB",9} | {"disk",6} {"anon",6}";
        output.WriteLine(memoryHeader);
        output.WriteLine(new string('-', memoryHeader.Length));
        foreach (YcsbWorkload workload in YcsbWorkload.All)
        {
            YcsbRunResult? n = Find(workload.Name, "nokv");
            YcsbRunResult? k = Find(workload.Name, "rocksdb");
            output.WriteLine(
                $"{workload.Name,-4} | {Disk(n),10} {n?.SstFiles.ToString(CultureInfo.InvariantCulture) ?? "-",4} {DeadRatio(n),8} {Mib(n?.PeakRssBytes),8} {Mib(n?.PeakAnonBytes),9} | " +
                $"{Disk(k),12} {k?.SstFiles.ToString(CultureInfo.InvariantCulture) ?? "-",4} {DeadRatio(k),8} {Mib(k?.PeakRssBytes),8} {Mib(k?.PeakAnonBytes),9} | " +
                $"{Ratio(n?.DiskBytes, k?.DiskBytes),6} {Ratio(n?.PeakAnonBytes, k?.PeakAnonBytes),6}");
        }

        output.WriteLine();
        output.WriteLine("disk: the data directory when the workload ended, before the engine closed; sst/live: the table files in it over the tables " +
                         "the engine's current state references (above 1: dead tables not yet deleted, or a compaction's outputs not yet installed); rss: VmHWM of the engine's process; " +
                         $"anon: the largest RssAnon sampled every {AnonymousMemorySampler.Period.TotalMilliseconds:F0} ms (no mapped file pages).");
        foreach (YcsbRunResult r in _results)
        {
            if (r.Error is not null)
            {
                output.WriteLine($"FAILED {r.Workload} {r.Engine}: {r.Error}");
            }
        }

        foreach (string engine in YcsbBenchmark.Engines)
        {
            if (_results.Find(r => r.Engine == engine && r.Notes.Count > 0) is { } withNotes)
            {
                foreach (string note in withNotes.Notes)
                {
                    output.WriteLine("note: " + note);
                }
            }

            if (_results.FindLast(r => r.Engine == engine && r.EngineState is not null) is { } last)
            {
                output.WriteLine($"{engine} state after {last.Workload}: {last.EngineState}");
            }
        }
    }

    public void WriteJson(string path)
    {
        var root = new JsonObject();
        foreach (YcsbWorkload workload in YcsbWorkload.All)
        {
            var engines = new JsonObject();
            foreach (string engine in YcsbBenchmark.Engines)
            {
                if (Find(workload.Name, engine) is { } r)
                {
                    engines[engine] = ToJson(r);
                }
            }

            root[workload.Name] = engines;
        }

        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonObject ToJson(YcsbRunResult r)
    {
        YcsbOperationStats? read = r.Ops.GetValueOrDefault("read");
        YcsbOperationStats? scan = r.Ops.GetValueOrDefault("scan");
        YcsbOperationStats? write = null;
        foreach (string name in WriteOperations)
        {
            write ??= r.Ops.GetValueOrDefault(name);
        }

        var ops = new JsonObject();
        foreach (KeyValuePair<string, YcsbOperationStats> op in r.Ops)
        {
            ops[op.Key] = new JsonObject
            {
                ["count"] = op.Value.Count,
                ["p50_us"] = op.Value.P50Us,
                ["p99_us"] = op.Value.P99Us,
                ["p999_us"] = op.Value.P999Us,
                ["max_us"] = op.Value.MaxUs,
            };
        }

        return new JsonObject
        {
            ["ops_per_sec"] = Math.Round(r.OpsPerSec, 1),
            ["read_p99_us"] = read?.P99Us,
            ["read_p999_us"] = read?.P999Us,
            ["write_p99_us"] = write?.P99Us,
            ["write_p999_us"] = write?.P999Us,
            ["scan_p99_us"] = scan?.P99Us,
            ["cpu_us_per_op"] = Math.Round(r.CpuMicrosPerOp, 2),
            ["peak_anon_mib"] = r.PeakAnonBytes < 0 ? null : Math.Round(r.PeakAnonBytes / MiB, 1),
            ["peak_rss_mib"] = Math.Round(r.PeakRssBytes / MiB, 1),
            ["disk_mib"] = Math.Round(r.DiskBytes / MiB, 1),
            ["sst_files"] = r.SstFiles,
            ["sst_mib"] = Math.Round(r.SstBytes / MiB, 1),
            ["live_sst_mib"] = r.LiveSstBytes < 0 ? null : Math.Round(r.LiveSstBytes / MiB, 1),
            ["operations"] = r.Operations,
            ["seconds"] = Math.Round(r.Seconds, 3),
            ["records_verified"] = r.RecordsVerified,
            ["ops"] = ops,
            ["error"] = r.Error,
        };
    }

    private YcsbRunResult? Find(string workload, string engine) => _results.Find(r => r.Workload == workload && r.Engine == engine);

    private static string Us(double? value) => value is { } v ? v.ToString(v >= 1000 ? "N0" : "F1", CultureInfo.InvariantCulture) : "-";

    private static string Mib(long? bytes) => bytes is { } b && b >= 0 ? (b / MiB).ToString("F0", CultureInfo.InvariantCulture) : "-";

    private static string DeadRatio(YcsbRunResult? r) =>
        r is not null && r.LiveSstBytes > 0 ? (r.SstBytes / (double)r.LiveSstBytes).ToString("F2", CultureInfo.InvariantCulture) : "-";

    private static string Disk(YcsbRunResult? r) => r is null ? "-" : Units.Bytes(r.DiskBytes);

    private static string Ratio(double? nokv, double? rocks) =>
        nokv is { } n && rocks is { } k && k > 0 ? Units.Ratio(n / k) : "-";
}
