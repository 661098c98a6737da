using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage;
using NoKv.Benchmarks.Storage.Engines;

namespace NoKv.Benchmarks.BulkLoad;

/// <summary>
/// The `bulkload` subcommand: a db_bench fillrandom with large values and several writer threads, the shape of
/// the cluster's re-replication load (1 GiB of 16 KiB values through 8-32 writers stalled the engines for half
/// the load). Every key is written once, in a seeded random order dealt round-robin to the writers; the WAL is
/// on, no write asks for sync. Each engine runs in its own child process with the engines' production-like
/// shape (64 MiB memtables, 64 MiB tables, 256 MiB level 1, level-0 triggers 4/20/36). Reports MB/s, the
/// engine's stall time, put latency percentiles, write amplification and level 0's file count every second.
/// </summary>
public static class BulkLoadBenchmark
{
    private const ulong OrderSeed = 7007;

    /// <summary>
    /// The settings both engines get: YCSB's (the same engine shape); the level-0 slowdown and stop triggers are both
    /// engines' defaults (20, 36).
    /// </summary>
    internal static EngineSettings Settings { get; } = Ycsb.YcsbCounts.Full.Settings;

    /// <summary>The silo's engine settings (NoKvStoreOptions defaults): 16 MiB memtables, background writes paced at 32 MiB/s, 1 MiB bytes-per-sync.</summary>
    internal static EngineSettings SiloSettings { get; } = Settings with
    {
        MemtableBytes = 16L << 20,
        BackgroundWriteBytesPerSecond = 32L << 20,
        TableBytesPerSync = 1L << 20,
    };

    public static int Run(IReadOnlyList<string> engines, int mib, int valueBytes, int threads, bool silo, string? jsonPath)
    {
        EngineSettings settings = silo ? SiloSettings : Settings;
        var root = Path.Combine(Path.GetTempPath(), "nokv-bulk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var results = new List<BulkLoadResult>();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bulkload: {mib} MiB of {valueBytes}-byte values, 16-byte keys in random order, {threads} writers, WAL on without sync, {Environment.ProcessorCount} cores"));
        Console.WriteLine("settings: " + settings.Describe());
        Console.WriteLine("loadavg at start: " + LoadAverage());
        try
        {
            foreach (var engine in engines)
            {
                results.Add(RunChild(engine, root, mib, valueBytes, threads, silo));
            }
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        Console.WriteLine();
        foreach (var r in results)
        {
            if (r.Error is not null)
            {
                Console.WriteLine($"{r.Engine,-12} FAILED: {r.Error}");
                continue;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Engine,-12} {r.MegabytesPerSecond,7:F1} MB/s  {r.Seconds,6:F1} s  stall {(r.StallSeconds is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "?"),5} s  " +
                $"put p50 {r.PutP50Us:F1} p99 {r.PutP99Us:F1} p999 {r.PutP999Us:F0} us max {r.PutMaxMs:F1} ms  " +
                $"wamp {(r.EngineWriteAmplification is { } w ? w.ToString("F2", CultureInfo.InvariantCulture) : "?")} (io {r.IoWriteAmplification:F2})  " +
                $"L0 max {(r.Level0PerSecond.Count > 0 ? r.Level0PerSecond.Max() : 0)}  settle {r.SettleSeconds:F1} s  cpu {r.CpuCores:F2} cores"));
        }

        Console.WriteLine();
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Engine,-12} L0 per second: {string.Join(' ', r.Level0PerSecond)}");
            Console.WriteLine($"{r.Engine,-12} after: {r.StateAfter}");
        }

        Console.WriteLine("loadavg at end: " + LoadAverage());
        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(results, StorageBenchmark.ResultJson));
        }

        return results.Any(r => r.Error is not null) ? 1 : 0;
    }

    private static BulkLoadResult RunChild(string engine, string root, int mib, int valueBytes, int threads, bool silo)
    {
        var dataDirectory = Path.Combine(root, engine);
        var resultPath = Path.Combine(root, engine + ".json");
        var startInfo = SelfInvocation.Create(
        [
            "bulkload", "--engine", engine, "--data-dir", dataDirectory, "--result", resultPath,
            "--mib", mib.ToString(CultureInfo.InvariantCulture), "--value-bytes", valueBytes.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture),
            .. (silo ? new[] { "--silo" } : []),
        ]);
        Console.WriteLine($"--- {engine}: running in a child process");
        using var child = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start the child process");
        var timeout = TimeSpan.FromMinutes(30);
        if (!child.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return new BulkLoadResult { Engine = engine, Error = "timed out" };
        }

        return File.Exists(resultPath)
            ? JsonSerializer.Deserialize<BulkLoadResult>(File.ReadAllText(resultPath), StorageBenchmark.ResultJson) ?? new BulkLoadResult { Engine = engine, Error = "empty result" }
            : new BulkLoadResult { Engine = engine, Error = $"child exited with code {child.ExitCode} and no result" };
    }

    /// <summary>Child: loads one engine and writes its result.</summary>
    public static int RunEngine(string engine, string dataDirectory, string resultPath, int mib, int valueBytes, int threads, bool silo)
    {
        KeyValueFormat.ValueSize = valueBytes;
        Directory.CreateDirectory(dataDirectory);
        var result = new BulkLoadResult { Engine = engine };
        try
        {
            Load(engine, dataDirectory, silo ? SiloSettings : Settings, mib, valueBytes, threads, result);
        }
        catch (Exception e)
        {
            result.Error = e.GetType().Name + ": " + e.Message;
            Console.Error.WriteLine($"[{engine}] {e}");
        }

        File.WriteAllText(resultPath, JsonSerializer.Serialize(result, StorageBenchmark.ResultJson));
        return result.Error is null ? 0 : 1;
    }

    private static void Load(string engine, string dataDirectory, EngineSettings settings, int mib, int valueBytes, int threads, BulkLoadResult result)
    {
        long keys = ((long)mib << 20) / (KeyValueFormat.KeySize + valueBytes);
        int[] order = Permutation((int)keys);
        using IBenchEngine database = BenchEngineFactory.Open(engine, dataDirectory, settings);
        var histograms = new LatencyHistogram[threads];
        var workers = new Thread[threads];
        using var go = new ManualResetEventSlim(false);
        var failures = new Exception?[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            histograms[t] = new LatencyHistogram();
            workers[t] = new Thread(() =>
            {
                go.Wait();
                try
                {
                    Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
                    byte[] value = new byte[valueBytes];
                    LatencyHistogram histogram = histograms[index];
                    for (long i = index; i < keys; i += threads)
                    {
                        KeyValueFormat.WriteKey(order[i], key);
                        KeyValueFormat.WriteValue(order[i], 0, value);
                        long start = Stopwatch.GetTimestamp();
                        database.Put(key, value, sync: false);
                        histogram.Record((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
                    }
                }
                catch (Exception e)
                {
                    failures[index] = e;
                }
            })
            { IsBackground = true, Name = $"bulk-{t}" };
            workers[t].Start();
        }

        double stallBefore = database.StallSeconds() ?? 0;
        long ioBefore = ProcessIo.ReadWrittenBytes();
        using var sampling = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            long next = Stopwatch.GetTimestamp();
            while (!sampling.IsCancellationRequested)
            {
                next += Stopwatch.Frequency;
                long wait = next - Stopwatch.GetTimestamp();
                if (wait > 0 && sampling.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency)))
                {
                    break;
                }

                result.Level0PerSecond.Add(database.Level0Files() ?? -1);
            }
        })
        { IsBackground = true, Name = "bulk-sampler" };
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long begin = Stopwatch.GetTimestamp();
        go.Set();
        sampler.Start();
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(begin);
        result.CpuCores = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / elapsed.TotalSeconds;
        sampling.Cancel();
        sampler.Join();
        foreach (Exception? failure in failures)
        {
            if (failure is not null)
            {
                throw new InvalidOperationException("a writer failed", failure);
            }
        }

        var all = new LatencyHistogram();
        foreach (LatencyHistogram h in histograms)
        {
            all.Add(h);
        }

        result.Writes = keys;
        result.UserBytes = keys * (KeyValueFormat.KeySize + valueBytes);
        result.Seconds = elapsed.TotalSeconds;
        result.MegabytesPerSecond = result.UserBytes / 1e6 / elapsed.TotalSeconds;
        result.StallSeconds = database.StallSeconds() is { } stall ? stall - stallBefore : null;
        result.PutP50Us = all.Quantile(0.50) / 1000;
        result.PutP99Us = all.Quantile(0.99) / 1000;
        result.PutP999Us = all.Quantile(0.999) / 1000;
        result.PutMaxMs = all.MaxNanoseconds / 1e6;
        result.EngineWriteAmplification = database.EngineWriteAmplification();
        result.IoWriteAmplification = (double)(ProcessIo.ReadWrittenBytes() - ioBefore) / result.UserBytes;

        // How long the engine needs after the load to bring level 0 back under its trigger (up to 5 minutes).
        long settleStart = Stopwatch.GetTimestamp();
        result.SettleSeconds = -1;
        while (Stopwatch.GetElapsedTime(settleStart) < TimeSpan.FromMinutes(5))
        {
            if ((database.Level0Files() ?? 0) < Settings.Level0CompactionTrigger)
            {
                result.SettleSeconds = Stopwatch.GetElapsedTime(settleStart).TotalSeconds;
                break;
            }

            Thread.Sleep(100);
        }

        result.StateAfter = database.DescribeState();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{engine}] {keys:N0} puts in {elapsed.TotalSeconds:F1} s; {result.StateAfter}"));
    }

    private static int[] Permutation(int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        var random = new SplitMix64(OrderSeed);
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

    /// <summary>Engine list for this subcommand: nokv and rocksdb by default; nokv-vlog and rocksdb-blob when named.</summary>
    public static IReadOnlyList<string> ParseEngines(string? list) =>
        string.IsNullOrWhiteSpace(list) ? ["nokv", "rocksdb"] : StorageBenchmark.ParseEngines(list);
}
