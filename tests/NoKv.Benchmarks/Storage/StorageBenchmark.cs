using System.Diagnostics;
using System.Text.Json;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage.Engines;

namespace NoKv.Benchmarks.Storage;

/// <summary>
/// The `storage` subcommand. The parent process re-invokes this program once per engine with the
/// hidden `--engine` option, so each engine runs alone in a fresh process (its own heap, native
/// allocations, thread pool and peak-memory counter), then prints the combined table and optionally
/// writes JSON. Data lives under one temporary directory that is deleted at the end.
/// </summary>
public static class StorageBenchmark
{
    internal static readonly JsonSerializerOptions ResultJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>Parent: runs every requested engine in a child process and reports. Returns the process exit code.</summary>
    /// <param name="valueBytes">Value length (default 100); set before anything is written.</param>
    /// <param name="keys">Keys of the fill and read workloads instead of the run size's default.</param>
    public static int Run(bool quick, string? jsonPath, IReadOnlyList<string> engines, IReadOnlyList<string> workloads, string? compression = null, int? valueBytes = null, int? keys = null)
    {
        var settings = Settings(quick, compression, valueBytes);
        var counts = Counts(quick, keys);
        var root = Path.Combine(Path.GetTempPath(), "nokv-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var results = new List<EngineRunResult>();
        try
        {
            Console.WriteLine($"NoKV storage benchmark ({(quick ? "quick" : "full")}): {KeyValueFormat.KeySize}-byte keys, {KeyValueFormat.ValueSize}-byte {(KeyValueFormat.CompressibleValues ? "half-compressible " : "")}values, " +
                              $"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
            Console.WriteLine("settings: " + settings.Describe());
            Console.WriteLine();
            foreach (var engine in engines)
            {
                results.Add(RunChild(engine, quick, root, workloads, compression, valueBytes, keys));
            }
        }
        finally
        {
            TryDelete(root);
        }

        var report = new StorageReport(settings, counts, results);
        Console.WriteLine();
        report.Print(Console.Out);
        if (jsonPath is not null)
        {
            report.WriteJson(jsonPath);
            Console.WriteLine($"JSON written to {jsonPath}");
        }
        return report.HasFailures ? 1 : 0;
    }

    /// <summary>Child: runs all workloads on one engine and writes the result JSON to <paramref name="resultPath"/>.</summary>
    public static int RunEngine(string engine, bool quick, string dataDirectory, string resultPath, IReadOnlyList<string> workloads, string? compression = null, int? valueBytes = null, int? keys = null)
    {
        var settings = Settings(quick, compression, valueBytes);
        var counts = Counts(quick, keys);
        Directory.CreateDirectory(dataDirectory);
        var result = new EngineWorkloadRunner(engine, dataDirectory, settings, counts, Console.Error, workloads).Run();
        File.WriteAllText(resultPath, JsonSerializer.Serialize(result, ResultJson));
        return result.Error is null ? 0 : 1;
    }

    /// <summary>
    /// The run's settings. Naming a codec (even none) also makes values half compressible, so runs with
    /// different codecs write the same data and their disk sizes and throughputs compare.
    /// </summary>
    private static WorkloadCounts Counts(bool quick, int? keys)
    {
        var counts = quick ? WorkloadCounts.Quick : WorkloadCounts.Full;
        if (keys is { } n)
        {
            if (n < 1000)
            {
                throw new ArgumentException("--keys must be at least 1000");
            }

            counts = counts with { Keys = n, ReadMissing = Math.Max(1000, n / 5), Seeks = Math.Max(1000, n / 10) };
        }

        return counts;
    }

    private static EngineSettings Settings(bool quick, string? compression, int? valueBytes = null)
    {
        if (valueBytes is { } v)
        {
            if (v < 8 || v > (1 << 20))
            {
                throw new ArgumentException("--value-bytes must be between 8 and 1048576");
            }

            KeyValueFormat.ValueSize = v;
        }

        var settings = quick ? EngineSettings.Quick : EngineSettings.Full;
        if (compression is null)
        {
            return settings;
        }

        if (compression is not ("none" or "lz4" or "zstd"))
        {
            throw new ArgumentException($"unknown --compression '{compression}' (known: none, lz4, zstd)");
        }

        KeyValueFormat.CompressibleValues = true;
        return settings with { Compression = compression };
    }

    private static EngineRunResult RunChild(string engine, bool quick, string root, IReadOnlyList<string> workloads, string? compression, int? valueBytes, int? keys)
    {
        var dataDirectory = Path.Combine(root, engine);
        var resultPath = Path.Combine(root, engine + ".result.json");
        var arguments = new List<string> { "storage", "--engine", engine, "--data-dir", dataDirectory, "--result", resultPath };
        if (quick)
        {
            arguments.Add("--quick");
        }
        if (compression is not null)
        {
            arguments.Add("--compression");
            arguments.Add(compression);
        }
        if (valueBytes is { } v)
        {
            arguments.Add("--value-bytes");
            arguments.Add(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (keys is { } k)
        {
            arguments.Add("--keys");
            arguments.Add(k.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (workloads.Count != WorkloadNames.All.Count)
        {
            arguments.Add("--workloads");
            arguments.Add(string.Join(',', workloads));
        }
        var startInfo = SelfInvocation.Create(arguments);
        var timeout = quick ? TimeSpan.FromMinutes(2) : TimeSpan.FromMinutes(20);
        Console.WriteLine($"--- {engine}: running in a child process");
        using var child = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start the benchmark child process");
        if (!child.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return new EngineRunResult { Engine = engine, Error = $"timed out after {timeout.TotalMinutes:F0} min" };
        }
        if (!File.Exists(resultPath))
        {
            return new EngineRunResult { Engine = engine, Error = $"child process exited with code {child.ExitCode} and no result" };
        }
        return JsonSerializer.Deserialize<EngineRunResult>(File.ReadAllText(resultPath), ResultJson)
               ?? new EngineRunResult { Engine = engine, Error = "empty result file" };
    }

    /// <summary>Engine list from the command line; null or empty means all engines.</summary>
    public static IReadOnlyList<string> ParseEngines(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            return BenchEngineFactory.Names;
        }
        var engines = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var engine in engines)
        {
            if (!BenchEngineFactory.IsKnown(engine))
            {
                throw new ArgumentException($"unknown engine '{engine}' (known: {string.Join(", ", BenchEngineFactory.Names.Concat(BenchEngineFactory.Optional))})");
            }
        }
        return engines;
    }

    /// <summary>Workload list from the command line; null or empty means all workloads.</summary>
    public static IReadOnlyList<string> ParseWorkloads(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            return WorkloadNames.All;
        }
        var workloads = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var workload in workloads)
        {
            if (!WorkloadNames.All.Contains(workload))
            {
                throw new ArgumentException($"unknown workload '{workload}' (known: {string.Join(", ", WorkloadNames.All)})");
            }
        }
        return workloads;
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
