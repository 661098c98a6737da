using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage;
using NoKv.Benchmarks.Storage.Engines;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// Runs one workload against one engine, inside that engine's child process: opens the database the previous
/// workload left (load starts from an empty directory), runs <see cref="YcsbCounts.Threads"/> client threads,
/// and measures throughput, latency per operation type, disk, peak RSS and peak anonymous memory. The record
/// count carries from one child to the next in a small state file beside the database.
/// </summary>
public sealed class YcsbRunner
{
    private readonly string _engineName;
    private readonly YcsbWorkload _workload;
    private readonly string _dataDirectory;
    private readonly string _statePath;
    private readonly YcsbCounts _counts;
    private readonly bool _mappedReads;
    private readonly TextWriter _log;
    private long _budget;
    private int _stop;

    public YcsbRunner(string engineName, YcsbWorkload workload, string dataDirectory, string statePath, YcsbCounts counts, bool mappedReads, TextWriter log)
    {
        _engineName = engineName;
        _workload = workload;
        _dataDirectory = dataDirectory;
        _statePath = statePath;
        _counts = counts;
        _mappedReads = mappedReads;
        _log = log;
    }

    public YcsbRunResult Run()
    {
        var result = new YcsbRunResult { Engine = _engineName, Workload = _workload.Name };
        using var anon = new AnonymousMemorySampler();
        using LargeAllocationListener? large = Environment.GetEnvironmentVariable("NOKV_MEM_TRACE") == "1" ? new LargeAllocationListener() : null;
        try
        {
            RunCore(result, anon);
        }
        catch (Exception exception)
        {
            result.Error ??= exception.GetType().Name + ": " + exception.Message;
            _log.WriteLine($"[{_engineName} {_workload.Name}] error: {exception}");
        }

        anon.Sample();
        if (large is not null)
        {
            Console.Error.WriteLine($"[{_engineName} {_workload.Name}] " + large.Summary());
        }

        result.PeakRssBytes = ProcessMemory.ReadPeakBytes();
        result.PeakAnonBytes = anon.PeakBytes;
        return result;
    }

    private void RunCore(YcsbRunResult result, AnonymousMemorySampler anon)
    {
        long records = 0;
        if (_workload.IsLoad)
        {
            if (Directory.Exists(_dataDirectory))
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
        }
        else
        {
            records = JsonSerializer.Deserialize<long>(File.ReadAllText(_statePath));
        }

        Directory.CreateDirectory(_dataDirectory);
        IBenchEngine engine = _engineName switch
        {
            "nokv" => new NoKvBenchEngine(_dataDirectory, _counts.Settings, _mappedReads),
            "rocksdb" => new RocksDbBenchEngine(_dataDirectory, _counts.Settings, _mappedReads),
            _ => throw new ArgumentException($"unknown engine '{_engineName}' (ycsb runs nokv and rocksdb)"),
        };
        anon.Describe = engine.DescribeMemory;
        try
        {
            foreach (string note in engine.Notes)
            {
                // The adapters' notes on synced writes are about the storage benchmark's fillsync; YCSB never syncs.
                if (!note.Contains("fillsync", StringComparison.Ordinal))
                {
                    result.Notes.Add(note);
                }
            }
            var inserts = new AcknowledgedCounter(records);
            int workloadIndex = 0;
            while (YcsbWorkload.All[workloadIndex] != _workload)
            {
                workloadIndex++;
            }

            var clients = new YcsbClient[YcsbCounts.Threads];
            for (int t = 0; t < clients.Length; t++)
            {
                ulong seed = (ulong)(((workloadIndex + 1) * 1000) + t);
                ulong versionBase = ((ulong)workloadIndex << 56) | ((ulong)t << 48);
                clients[t] = new YcsbClient(engine, _workload, records, inserts, seed, versionBase);
            }

            _budget = _counts.OperationsOf(_workload);
            var errors = new Exception?[clients.Length];
            // The .NET collector's share of the tails: collections and their total pause over the run (RocksDB's
            // process collects only the harness's garbage, which is none per operation).
            int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            TimeSpan pauseBefore = GC.GetTotalPauseDuration();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            TimeSpan cpuBefore = ProcessCpu.Self();
            long start = Stopwatch.GetTimestamp();
            // Load is not capped (the workloads after it need every record), beyond a generous safety limit.
            TimeSpan cap = _workload.IsLoad ? _counts.MaxRunTime * 10 : _counts.MaxRunTime;
            long deadline = start + (long)(cap.TotalSeconds * Stopwatch.Frequency);
            var threads = new Thread[clients.Length];
            for (int t = 0; t < clients.Length; t++)
            {
                int index = t;
                threads[t] = new Thread(() =>
                {
                    try
                    {
                        clients[index].Run(ref _budget, deadline, ref _stop);
                    }
                    catch (Exception exception)
                    {
                        errors[index] = exception;
                        Volatile.Write(ref _stop, 1);
                    }
                })
                { Name = $"ycsb-client-{t}" };
                threads[t].Start();
            }

            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            TimeSpan cpu = ProcessCpu.Self() - cpuBefore;
            string gc = string.Create(CultureInfo.InvariantCulture,
                $"gc: gen0 {GC.CollectionCount(0) - collectionsBefore[0]}, gen1 {GC.CollectionCount(1) - collectionsBefore[1]}, " +
                $"gen2 {GC.CollectionCount(2) - collectionsBefore[2]}, pause {(GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds:F1} ms, " +
                $"allocated {Units.Bytes(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore)}");
            anon.Sample();
            var merged = new LatencyHistogram[Enum.GetValues<YcsbOperation>().Length];
            for (int op = 0; op < merged.Length; op++)
            {
                merged[op] = new LatencyHistogram();
                foreach (YcsbClient client in clients)
                {
                    merged[op].Add(client.Histograms[op]);
                }

                if (merged[op].Count > 0)
                {
                    result.Ops[OperationName((YcsbOperation)op)] = YcsbOperationStats.From(merged[op]);
                    result.Operations += merged[op].Count;
                }
            }

            foreach (YcsbClient client in clients)
            {
                result.RecordsVerified += client.Verified;
                client.Dispose();
            }

            result.Seconds = elapsed.TotalSeconds;
            result.OpsPerSec = result.Operations / Math.Max(elapsed.TotalSeconds, 1e-9);
            result.CpuMicrosPerOp = cpu.TotalMicroseconds / Math.Max(result.Operations, 1);
            if (Array.Find(errors, e => e is not null) is { } error)
            {
                result.Error = error.GetType().Name + ": " + error.Message;
            }

            // Measured before close: what the directory holds while the engine runs (dead files included).
            result.DiskBytes = DirectorySize.Of(_dataDirectory);
            result.LiveSstBytes = engine.LiveTableBytes() ?? -1;
            foreach (string table in Directory.EnumerateFiles(_dataDirectory, "*.sst"))
            {
                try
                {
                    result.SstBytes += new FileInfo(table).Length;
                    result.SstFiles++;
                }
                catch (FileNotFoundException)
                {
                    // Deleted while we listed: an obsolete table going.
                }
            }
            result.EngineState = engine.DescribeState();

            // Every insert handed out has completed (the clients joined), so the next run sees them all.
            File.WriteAllText(_statePath, JsonSerializer.Serialize(inserts.Issued));
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{_engineName} {_workload.Name}] {result.Operations:N0} ops in {elapsed.TotalSeconds:F1} s = {result.OpsPerSec:N0} ops/s, cpu {result.CpuMicrosPerOp:F1} us/op, " +
                $"{result.RecordsVerified:N0} records verified, disk {Units.Bytes(result.DiskBytes)}, {result.SstFiles} tables of {Units.Bytes(result.SstBytes)} " +
                $"(live {Units.Bytes(result.LiveSstBytes)}); {gc}; {result.EngineState}"));
        }
        finally
        {
            anon.Describe = null;
            engine.Dispose();
        }
    }

    public static string OperationName(YcsbOperation operation) => operation switch
    {
        YcsbOperation.Read => "read",
        YcsbOperation.Update => "update",
        YcsbOperation.Insert => "insert",
        YcsbOperation.Scan => "scan",
        YcsbOperation.ReadModifyWrite => "rmw",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };
}
