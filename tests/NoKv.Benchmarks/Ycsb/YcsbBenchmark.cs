using System.Diagnostics;
using System.Text.Json;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// The `ycsb` subcommand: YCSB's core workloads (load, then A-F in order on the loaded data) on NoKv and
/// RocksDB with the same settings. The parent re-invokes this program once per engine and workload, so every
/// measurement runs in a fresh process (its own heap, native allocations and peak-memory counters); each
/// engine's database persists across its children in a temporary directory deleted at the end.
/// </summary>
public static class YcsbBenchmark
{
    public static IReadOnlyList<string> Engines { get; } = ["nokv", "rocksdb"];

    /// <summary>Parent: runs every workload on every engine, each in a child process, then reports. Returns the exit code.</summary>
    /// <param name="workloads">The workloads to run, in the standard order with the load first (null = all).</param>
    public static int Run(bool quick, string? jsonPath, string? reads, IReadOnlyList<YcsbWorkload>? workloads = null)
    {
        bool mapped = ParseReads(reads);
        YcsbCounts counts = quick ? YcsbCounts.Quick : YcsbCounts.Full;
        string root = Path.Combine(Path.GetTempPath(), "nokv-ycsb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var results = new List<YcsbRunResult>();
        Console.WriteLine($"NoKV YCSB benchmark ({(quick ? "quick" : "full")}): {counts.Records:N0} records of {YcsbValues.Size}-byte values, " +
                          $"{YcsbCounts.Threads} client threads, {counts.Operations:N0} operations per workload ({counts.ScanOperations:N0} for E), " +
                          $"at most {counts.MaxRunTime.TotalSeconds:F0} s each, {(mapped ? "mapped" : "pread")} reads, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine("settings: " + counts.Settings.Describe().Replace(", per-write sync only in fillsync workloads", ", no per-write sync", StringComparison.Ordinal));
        Console.WriteLine();
        try
        {
            foreach (YcsbWorkload workload in workloads ?? YcsbWorkload.All)
            {
                foreach (string engine in Engines)
                {
                    YcsbRunResult result = RunChild(engine, workload, quick, mapped, root);
                    results.Add(result);
                    Console.WriteLine(result.Error is null
                        ? $"  {workload.Name,-5} {engine,-8} {Units.Rate(result.OpsPerSec),12} ops/s  cpu {result.CpuMicrosPerOp,7:F1} us/op"
                        : $"  {workload.Name,-5} {engine,-8} FAILED: {result.Error}");
                }
            }
        }
        finally
        {
            TryDelete(root);
        }

        var report = new YcsbReport(results);
        Console.WriteLine();
        report.Print(Console.Out);
        if (jsonPath is not null)
        {
            report.WriteJson(jsonPath);
            Console.WriteLine($"JSON written to {jsonPath}");
        }

        return report.HasFailures ? 1 : 0;
    }

    /// <summary>Child: runs one workload on one engine and writes its result JSON.</summary>
    public static int RunChild(string engine, string workload, bool quick, string? reads, string dataDirectory, string statePath, string resultPath)
    {
        YcsbCounts counts = quick ? YcsbCounts.Quick : YcsbCounts.Full;
        var runner = new YcsbRunner(engine, YcsbWorkload.Parse(workload), dataDirectory, statePath, counts, ParseReads(reads), Console.Error);
        YcsbRunResult result = runner.Run();
        File.WriteAllText(resultPath, JsonSerializer.Serialize(result, StorageBenchmark.ResultJson));
        return result.Error is null ? 0 : 1;
    }

    /// <summary>
    /// The workloads a comma-separated list names, in the standard order, with the load first (every workload
    /// runs on the data it leaves); null or empty = all.
    /// </summary>
    public static IReadOnlyList<YcsbWorkload>? ParseWorkloads(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            return null;
        }

        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            named.Add(YcsbWorkload.Parse(name.ToLowerInvariant()).Name);
        }

        return [.. YcsbWorkload.All.Where(w => w.IsLoad || named.Contains(w.Name))];
    }

    /// <summary>True for mapped reads; null means the engine default of this platform.</summary>
    public static bool ParseReads(string? reads) => reads switch
    {
        null or "" => new NoKv.Storage.StorageOptions().UseMappedReads,
        "mapped" => true,
        "pread" => false,
        _ => throw new ArgumentException($"--reads must be mapped or pread, not '{reads}'"),
    };

    private static YcsbRunResult RunChild(string engine, YcsbWorkload workload, bool quick, bool mapped, string root)
    {
        string engineRoot = Path.Combine(root, engine);
        Directory.CreateDirectory(engineRoot);
        string resultPath = Path.Combine(engineRoot, workload.Name + ".result.json");
        var arguments = new List<string>
        {
            "ycsb", "--engine", engine, "--workload", workload.Name, "--reads", mapped ? "mapped" : "pread",
            "--data-dir", Path.Combine(engineRoot, "db"), "--state", Path.Combine(engineRoot, "records.json"), "--result", resultPath,
        };
        if (quick)
        {
            arguments.Add("--quick");
        }

        TimeSpan timeout = quick ? TimeSpan.FromMinutes(3) : TimeSpan.FromMinutes(15);
        using Process child = Process.Start(SelfInvocation.Create(arguments)) ?? throw new InvalidOperationException("could not start the benchmark child process");
        if (!child.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return new YcsbRunResult { Engine = engine, Workload = workload.Name, Error = $"timed out after {timeout.TotalMinutes:F0} min" };
        }

        if (!File.Exists(resultPath))
        {
            return new YcsbRunResult { Engine = engine, Workload = workload.Name, Error = $"child process exited with code {child.ExitCode} and no result" };
        }

        return JsonSerializer.Deserialize<YcsbRunResult>(File.ReadAllText(resultPath), StorageBenchmark.ResultJson)
               ?? new YcsbRunResult { Engine = engine, Workload = workload.Name, Error = "empty result file" };
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException exception)
        {
            Console.Error.WriteLine($"warning: could not delete {path}: {exception.Message}");
        }
    }
}
