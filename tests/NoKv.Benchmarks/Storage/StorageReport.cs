using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Storage;

/// <summary>Prints the storage benchmark table and writes its JSON form.</summary>
public sealed class StorageReport
{
    /// <summary>The engine the ratios are taken against: the first NoKv engine of the run (nokv, or nokv-vlog when it runs first).</summary>
    private string NoKv => _results.FirstOrDefault(r => r.Engine.StartsWith("nokv", StringComparison.Ordinal))?.Engine ?? "nokv";

    private readonly EngineSettings _settings;
    private readonly WorkloadCounts _counts;
    private readonly IReadOnlyList<EngineRunResult> _results;

    public StorageReport(EngineSettings settings, WorkloadCounts counts, IReadOnlyList<EngineRunResult> results)
    {
        _settings = settings;
        _counts = counts;
        _results = results;
    }

    /// <summary>True when an engine crashed or any workload returned a wrong answer.</summary>
    public bool HasFailures
    {
        get
        {
            foreach (var result in _results)
            {
                if (result.Error is not null)
                {
                    return true;
                }
                foreach (var workload in result.Workloads)
                {
                    if (workload.Failure is not null)
                    {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    public void Print(TextWriter output)
    {
        output.WriteLine("settings: " + _settings.Describe());
        var others = OtherEngines();
        var header = $"{"workload",-18} {"ops",11}";
        foreach (var result in _results)
        {
            header += $" {result.Engine + " ops/s",16}";
        }
        foreach (var other in others)
        {
            header += $" {NoKv + "/" + other,14}";
        }
        output.WriteLine(header);
        output.WriteLine(new string('-', header.Length));
        foreach (var name in WorkloadNames.All)
        {
            long operations = 0;
            var line = "";
            foreach (var result in _results)
            {
                var workload = Find(result, name);
                operations = Math.Max(operations, workload?.Operations ?? 0);
                line += $" {Cell(workload),16}";
            }
            foreach (var other in others)
            {
                line += $" {Units.Ratio(Ratio(name, other)),14}";
            }
            output.WriteLine($"{name,-18} {Units.Count(operations),11}" + line);
        }

        output.WriteLine();
        output.WriteLine($"{"engine",-10} {"write-amp (engine)",18} {"write-amp (io)",15} {"disk after run",15} {"peak memory",12}");
        foreach (var result in _results)
        {
            output.WriteLine($"{result.Engine,-10} {Amp(result.EngineWriteAmplification),18} {Amp(result.IoWriteAmplification),15} " +
                             $"{Units.Bytes(result.DiskBytes > 0 ? result.DiskBytes : -1),15} {Units.Bytes(result.PeakMemoryBytes),12}");
        }
        output.WriteLine("write-amp (engine): the engine's own (WAL + flush + compaction bytes) / user bytes; write-amp (io): write(2) bytes of the " +
                         "process / user bytes; both over the fillrandom+overwrite database. disk: that database after all its workloads.");

        output.WriteLine();
        var memoryHeader = $"{"peak memory",-18}";
        foreach (var result in _results)
        {
            memoryHeader += $" {result.Engine,16}";
        }
        output.WriteLine(memoryHeader);
        foreach (var name in WorkloadNames.All)
        {
            var line = $"{name,-18}";
            foreach (var result in _results)
            {
                line += $" {Units.Bytes(Find(result, name)?.PeakMemoryBytes ?? -1),16}";
            }
            output.WriteLine(line);
        }

        output.WriteLine();
        foreach (var result in _results)
        {
            foreach (var note in result.Notes)
            {
                output.WriteLine("note: " + note);
            }
        }
        foreach (var result in _results)
        {
            if (result.Error is not null)
            {
                output.WriteLine($"ERROR {result.Engine}: {result.Error}");
            }
            foreach (var workload in result.Workloads)
            {
                if (workload.Failure is not null)
                {
                    output.WriteLine($"FAILED {result.Engine} {workload.Name}: {workload.Failure}");
                }
            }
        }
    }

    public void WriteJson(string path)
    {
        var workloads = new JsonObject();
        var ratios = new JsonObject();
        foreach (var name in WorkloadNames.All)
        {
            var perEngine = new JsonObject();
            foreach (var result in _results)
            {
                var workload = Find(result, name);
                if (workload is null)
                {
                    continue;
                }
                perEngine[result.Engine] = new JsonObject
                {
                    ["ops_per_sec"] = Math.Round(workload.OpsPerSecond, 1),
                    ["operations"] = workload.Operations,
                    ["seconds"] = Math.Round(workload.Seconds, 4),
                    ["found"] = workload.Found,
                    ["mismatches"] = workload.Mismatches,
                    ["failed"] = workload.Failure is not null,
                    ["peak_memory_bytes"] = workload.PeakMemoryBytes,
                };
            }
            workloads[name] = perEngine;
            var workloadRatios = new JsonObject();
            foreach (var other in OtherEngines())
            {
                var ratio = Ratio(name, other);
                if (double.IsFinite(ratio))
                {
                    workloadRatios[NoKv + "/" + other] = Math.Round(ratio, 3);
                }
            }
            ratios[name] = workloadRatios;
        }

        var settings = _settings.ToJson();
        settings["counts"] = JsonSerializer.SerializeToNode(_counts, StorageBenchmark.ResultJson);

        var writeAmp = new JsonObject();
        var diskBytes = new JsonObject();
        var peakMemory = new JsonObject();
        var errors = new JsonObject();
        var notes = new JsonObject();
        foreach (var result in _results)
        {
            writeAmp[result.Engine] = new JsonObject
            {
                ["engine_reported"] = Rounded(result.EngineWriteAmplification),
                ["io"] = Rounded(result.IoWriteAmplification),
            };
            diskBytes[result.Engine] = result.DiskBytes;
            peakMemory[result.Engine] = result.PeakMemoryBytes;
            if (result.Error is not null)
            {
                errors[result.Engine] = result.Error;
            }
            var engineNotes = new JsonArray();
            foreach (var note in result.Notes)
            {
                engineNotes.Add(note);
            }
            notes[result.Engine] = engineNotes;
        }

        var root = new JsonObject
        {
            ["workloads"] = workloads,
            ["ratios"] = ratios,
            ["settings"] = settings,
            ["write_amp"] = writeAmp,
            ["disk_bytes"] = diskBytes,
            ["peak_memory_bytes"] = peakMemory,
            ["errors"] = errors,
            ["notes"] = notes,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private List<string> OtherEngines()
    {
        var others = new List<string>();
        if (!_results.Any(r => r.Engine == NoKv))
        {
            return others;
        }
        foreach (var result in _results)
        {
            if (result.Engine != NoKv)
            {
                others.Add(result.Engine);
            }
        }
        return others;
    }

    private double Ratio(string workload, string other)
    {
        var ours = Find(_results.FirstOrDefault(r => r.Engine == NoKv), workload);
        var theirs = Find(_results.FirstOrDefault(r => r.Engine == other), workload);
        if (ours is null || theirs is null || ours.Failure is not null || theirs.OpsPerSecond <= 0)
        {
            return double.NaN;
        }
        return ours.OpsPerSecond / theirs.OpsPerSecond;
    }

    private static WorkloadResult? Find(EngineRunResult? result, string workload) =>
        result?.Workloads.FirstOrDefault(w => w.Name == workload);

    private static string Cell(WorkloadResult? workload) => workload switch
    {
        null => "-",
        { Failure: not null } => "FAIL " + Units.Rate(workload.OpsPerSecond),
        _ => Units.Rate(workload.OpsPerSecond),
    };

    private static string Amp(double? value) =>
        value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "n/a";

    private static JsonNode? Rounded(double? value) =>
        value is { } v ? JsonValue.Create(Math.Round(v, 3)) : null;
}
