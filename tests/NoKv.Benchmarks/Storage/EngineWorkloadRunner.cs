using System.Diagnostics;
using System.Globalization;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage.Engines;

namespace NoKv.Benchmarks.Storage;

/// <summary>
/// Runs every storage workload against one engine, inside that engine's own child process.
/// Databases, in order:
/// <list type="number">
/// <item>"seq": fillseq into a fresh database.</item>
/// <item>"random": fillrandom (every key exactly once, in a seeded random order), overwrite (random keys
/// with replacement, each bumping that key's version), Flush, then readrandom with 1 and 2 threads,
/// readmissing, seekrandom + next 10 and a full scan, all verified against the versions written.</item>
/// <item>"sync": fillsync, one synced write at a time.</item>
/// <item>"sync32": the same with 32 writer threads, to measure group commit.</item>
/// </list>
/// Every seed is fixed, so each engine receives the identical operation sequence.
/// </summary>
public sealed class EngineWorkloadRunner
{
    private const ulong FillRandomSeed = 1001;
    private const ulong OverwriteSeed = 2002;
    private const ulong ReadRandomSeed = 3003;
    private const ulong ReadRandomTwoThreadSeed = 4004;
    private const ulong ReadMissingSeed = 5005;
    private const ulong SeekRandomSeed = 6006;

    private readonly string _engineName;
    private readonly string _dataRoot;
    private readonly EngineSettings _settings;
    private readonly WorkloadCounts _counts;
    private readonly TextWriter _log;
    private readonly bool _peakPerPhase;
    private readonly EngineRunResult _result;
    private readonly HashSet<string> _selected;

    /// <param name="workloads">Workloads to run; the random-key read workloads always run fillrandom, overwrite and the flush first, since they read that data.</param>
    public EngineWorkloadRunner(string engineName, string dataRoot, EngineSettings settings, WorkloadCounts counts, TextWriter log, IReadOnlyList<string> workloads)
    {
        _selected = new HashSet<string>(workloads, StringComparer.Ordinal);
        _engineName = engineName;
        _dataRoot = dataRoot;
        _settings = settings;
        _counts = counts;
        _log = log;
        _peakPerPhase = ProcessMemory.TryResetPeak();
        _result = new EngineRunResult { Engine = engineName };
    }

    public EngineRunResult Run()
    {
        try
        {
            if (_selected.Contains(WorkloadNames.FillSeq))
            {
                RunFill(WorkloadNames.FillSeq, "seq", _counts.Keys, sync: false);
            }
            if (NeedsRandomDatabase())
            {
                RunRandomDatabase();
            }
            if (_selected.Contains(WorkloadNames.FillSync))
            {
                RunFill(WorkloadNames.FillSync, "sync", _counts.SyncWrites, sync: true);
            }
            if (_selected.Contains(WorkloadNames.FillSyncConcurrent))
            {
                RunConcurrentSyncDatabase();
            }
        }
        catch (Exception exception)
        {
            // Keep what was measured; the parent reports the engine as failed with this message.
            _result.Error = exception.GetType().Name + ": " + exception.Message;
            _log.WriteLine($"[{_engineName}] error: {exception}");
        }
        _result.PeakMemoryBytes = Math.Max(ProcessMemory.ReadPeakBytes(), MaxWorkloadPeak());
        return _result;
    }

    /// <summary>Fresh database, keys 0..count-1 written in ascending order, each synced or not.</summary>
    private void RunFill(string workload, string directoryName, int count, bool sync)
    {
        var database = OpenDatabase(directoryName, out var path);
        try
        {
            Measure(workload, count, result =>
            {
                Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
                Span<byte> value = stackalloc byte[KeyValueFormat.ValueSize];
                for (var i = 0; i < count; i++)
                {
                    KeyValueFormat.WriteKey(i, key);
                    KeyValueFormat.WriteValue(i, 0, value);
                    database.Put(key, value, sync);
                }
            });
        }
        finally
        {
            database.Dispose();
        }
        DeleteDirectory(path);
    }

    private void RunRandomDatabase()
    {
        var keys = _counts.Keys;
        var order = SeededPermutation(keys, FillRandomSeed);
        var versions = new byte[keys];
        var writtenBefore = ProcessIo.ReadWrittenBytes();
        var database = OpenDatabase("random", out var path);
        try
        {
            Measure(WorkloadNames.FillRandom, keys, result =>
            {
                Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
                Span<byte> value = stackalloc byte[KeyValueFormat.ValueSize];
                foreach (var index in order)
                {
                    KeyValueFormat.WriteKey(index, key);
                    KeyValueFormat.WriteValue(index, 0, value);
                    database.Put(key, value, sync: false);
                }
            });

            Measure(WorkloadNames.Overwrite, keys, result =>
            {
                Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
                Span<byte> value = stackalloc byte[KeyValueFormat.ValueSize];
                var random = new SplitMix64(OverwriteSeed);
                for (var n = 0; n < keys; n++)
                {
                    var index = random.NextInt(keys);
                    var version = ++versions[index];
                    KeyValueFormat.WriteKey(index, key);
                    KeyValueFormat.WriteValue(index, version, value);
                    database.Put(key, value, sync: false);
                }
            });

            var flushWatch = Stopwatch.StartNew();
            database.Flush();
            _log.WriteLine($"[{_engineName}] flush {flushWatch.Elapsed.TotalSeconds:F2} s");

            if (_selected.Contains(WorkloadNames.ReadRandom1))
            {
                Measure(WorkloadNames.ReadRandom1, keys, result => ReadRandom(database, versions, keys, ReadRandomSeed, result));
            }
            if (_selected.Contains(WorkloadNames.ReadRandom2))
            {
                MeasureThreads(WorkloadNames.ReadRandom2, keys, threads: 2, (thread, result) =>
                    ReadRandom(database, versions, keys / 2, ReadRandomTwoThreadSeed + (ulong)thread, result));
            }
            if (_selected.Contains(WorkloadNames.ReadMissing))
            {
                Measure(WorkloadNames.ReadMissing, _counts.ReadMissing, result => ReadMissing(database, keys, result));
            }
            if (_selected.Contains(WorkloadNames.SeekRandom))
            {
                Measure(WorkloadNames.SeekRandom, _counts.Seeks, result => SeekRandom(database, versions, keys, result));
            }
            if (_selected.Contains(WorkloadNames.FullScan))
            {
                Measure(WorkloadNames.FullScan, keys, result => FullScan(database, versions, keys, result));
            }

            _result.EngineWriteAmplification = database.EngineWriteAmplification();
            _result.Notes.AddRange(database.Notes);
            if (database.DescribeState() is { } state)
            {
                _result.Notes.Add($"{_engineName} state after the random-key workloads: {state}");
            }
        }
        finally
        {
            database.Dispose();
        }
        var writtenAfter = ProcessIo.ReadWrittenBytes();
        if (writtenBefore >= 0 && writtenAfter >= 0)
        {
            // fillrandom and overwrite each write every key once.
            var userBytes = 2L * keys * (KeyValueFormat.KeySize + KeyValueFormat.ValueSize);
            _result.IoWriteAmplification = (double)(writtenAfter - writtenBefore) / userBytes;
        }
        _result.DiskBytes = DirectorySize.Of(path);
        DeleteDirectory(path);
    }

    private bool NeedsRandomDatabase() =>
        _selected.Contains(WorkloadNames.FillRandom) || _selected.Contains(WorkloadNames.Overwrite)
        || _selected.Contains(WorkloadNames.ReadRandom1) || _selected.Contains(WorkloadNames.ReadRandom2)
        || _selected.Contains(WorkloadNames.ReadMissing) || _selected.Contains(WorkloadNames.SeekRandom)
        || _selected.Contains(WorkloadNames.FullScan);

    private void RunConcurrentSyncDatabase()
    {
        var database = OpenDatabase("sync32", out var path);
        try
        {
            var writers = _counts.ConcurrentSyncWriters;
            var perWriter = _counts.ConcurrentSyncWritesPerWriter;
            MeasureThreads(WorkloadNames.FillSyncConcurrent, (long)writers * perWriter, writers, (writer, result) =>
            {
                Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
                Span<byte> value = stackalloc byte[KeyValueFormat.ValueSize];
                var first = (long)writer * perWriter;
                for (var i = first; i < first + perWriter; i++)
                {
                    KeyValueFormat.WriteKey(i, key);
                    KeyValueFormat.WriteValue(i, 0, value);
                    database.Put(key, value, sync: true);
                }
            });
        }
        finally
        {
            database.Dispose();
        }
        DeleteDirectory(path);
    }

    private static void ReadRandom(IBenchEngine database, byte[] versions, int reads, ulong seed, WorkloadResult result)
    {
        Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
        using var reader = database.CreateReader();
        var random = new SplitMix64(seed);
        long found = 0;
        long mismatches = 0;
        for (var n = 0; n < reads; n++)
        {
            var index = random.NextInt(versions.Length);
            KeyValueFormat.WriteKey(index, key);
            if (!reader.TryGet(key))
            {
                mismatches++;
                continue;
            }
            found++;
            if (!KeyValueFormat.IsExpectedValue(index, versions[index], reader.Value))
            {
                mismatches++;
            }
        }
        // Once per thread, so a lock costs nothing measurable.
        lock (result)
        {
            result.Found += found;
            result.Mismatches += mismatches;
        }
    }

    private static void ReadMissing(IBenchEngine database, int keys, WorkloadResult result)
    {
        Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
        using var reader = database.CreateReader();
        var random = new SplitMix64(ReadMissingSeed);
        long wronglyFound = 0;
        for (var n = 0; n < result.Operations; n++)
        {
            KeyValueFormat.WriteMissingKey(random.NextInt(keys), key);
            if (reader.TryGet(key))
            {
                wronglyFound++;
            }
        }
        result.Mismatches += wronglyFound;
    }

    private void SeekRandom(IBenchEngine database, byte[] versions, int keys, WorkloadResult result)
    {
        Span<byte> key = stackalloc byte[KeyValueFormat.KeySize];
        using var iterator = database.CreateIterator();
        var random = new SplitMix64(SeekRandomSeed);
        var nexts = _counts.NextsPerSeek;
        long found = 0;
        long mismatches = 0;
        for (var n = 0; n < result.Operations; n++)
        {
            var index = random.NextInt(keys);
            KeyValueFormat.WriteKey(index, key);
            iterator.Seek(key);
            if (!iterator.Valid || !iterator.Key.SequenceEqual(key))
            {
                mismatches++;
                continue;
            }
            found++;
            if (!KeyValueFormat.HasExpectedPrefix(index, versions[index], iterator.Value))
            {
                mismatches++;
            }
            for (var step = 1; step <= nexts && index + step < keys; step++)
            {
                iterator.Next();
                if (!iterator.Valid || KeyValueFormat.ParseKey(iterator.Key) != index + step
                    || !KeyValueFormat.HasExpectedPrefix(index + step, versions[index + step], iterator.Value))
                {
                    mismatches++;
                    break;
                }
            }
        }
        result.Found = found;
        result.Mismatches = mismatches;
    }

    private static void FullScan(IBenchEngine database, byte[] versions, int keys, WorkloadResult result)
    {
        using var iterator = database.CreateIterator();
        long expected = 0;
        long mismatches = 0;
        for (iterator.SeekToFirst(); iterator.Valid; iterator.Next())
        {
            var index = KeyValueFormat.ParseKey(iterator.Key);
            if (index != expected || !KeyValueFormat.HasExpectedPrefix(index, versions[index], iterator.Value))
            {
                // Out of order, duplicated or foreign key: count it and resynchronise on what we saw.
                mismatches++;
                if (index < 0 || index >= keys)
                {
                    break;
                }
            }
            expected = index + 1;
            result.Found++;
        }
        if (result.Found != keys)
        {
            mismatches += Math.Abs(keys - result.Found);
        }
        result.Mismatches = mismatches;
    }

    /// <summary>Times <paramref name="body"/> on the calling thread and records ops/s, verification counters and the phase's peak memory.</summary>
    private void Measure(string name, long operations, Action<WorkloadResult> body)
    {
        var result = BeginWorkload(name, operations);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        body(result);
        var elapsed = Stopwatch.GetElapsedTime(start);
        result.AllocatedBytesPerOp = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)Math.Max(1, operations);
        EndWorkload(result, elapsed);
    }

    /// <summary>
    /// Runs <paramref name="body"/> on <paramref name="threads"/> dedicated threads released together;
    /// the time runs from the release until the last thread finishes.
    /// </summary>
    private void MeasureThreads(string name, long operations, int threads, Action<int, WorkloadResult> body)
    {
        var result = BeginWorkload(name, operations);
        using var ready = new CountdownEvent(threads);
        using var go = new ManualResetEventSlim(false);
        var failures = new Exception?[threads];
        var workers = new Thread[threads];
        for (var t = 0; t < threads; t++)
        {
            var threadIndex = t;
            workers[t] = new Thread(() =>
            {
                ready.Signal();
                go.Wait();
                try
                {
                    body(threadIndex, result);
                }
                catch (Exception exception)
                {
                    failures[threadIndex] = exception;
                }
            })
            {
                IsBackground = true,
                Name = $"{name}-{t}",
            };
            workers[t].Start();
        }
        ready.Wait();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        go.Set();
        foreach (var worker in workers)
        {
            worker.Join();
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        result.AllocatedBytesPerOp = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)Math.Max(1, operations);
        foreach (var failure in failures)
        {
            if (failure is not null)
            {
                throw new InvalidOperationException($"{name}: a worker thread failed", failure);
            }
        }
        EndWorkload(result, elapsed);
    }

    private WorkloadResult BeginWorkload(string name, long operations)
    {
        // Start each phase from a collected heap so one phase's garbage does not inflate the next one's peak.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (_peakPerPhase)
        {
            ProcessMemory.TryResetPeak();
        }
        return new WorkloadResult { Name = name, Operations = operations };
    }

    private void EndWorkload(WorkloadResult result, TimeSpan elapsed)
    {
        result.Seconds = elapsed.TotalSeconds;
        result.OpsPerSecond = result.Operations / Math.Max(elapsed.TotalSeconds, 1e-9);
        result.PeakMemoryBytes = _peakPerPhase ? ProcessMemory.ReadPeakBytes() : -1;
        if (result.Mismatches > 0)
        {
            result.Failure = $"{result.Mismatches} wrong answers";
        }
        _result.Workloads.Add(result);
        var found = result.Found > 0 ? string.Create(CultureInfo.InvariantCulture, $"  found {result.Found:N0}") : "";
        var failure = result.Failure is null ? "" : "  FAILED: " + result.Failure;
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{_engineName}] {result.Name,-18} {result.Operations,10:N0} ops {result.Seconds,8:F2} s {result.OpsPerSecond,12:N0} ops/s {result.AllocatedBytesPerOp,8:F1} B/op{found}{failure}"));
    }

    private IBenchEngine OpenDatabase(string name, out string path)
    {
        path = Path.Combine(_dataRoot, name);
        Directory.CreateDirectory(path);
        return BenchEngineFactory.Open(_engineName, path, _settings);
    }

    private long MaxWorkloadPeak()
    {
        long max = 0;
        foreach (var workload in _result.Workloads)
        {
            max = Math.Max(max, workload.PeakMemoryBytes);
        }
        return max;
    }

    private static int[] SeededPermutation(int count, ulong seed)
    {
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }
        var random = new SplitMix64(seed);
        for (var i = count - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
