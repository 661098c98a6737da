using System.Diagnostics;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Drives one <see cref="IClusterTarget"/> with a closed loop of N concurrent operations (each worker
/// issues its next operation when the previous one completes) for a fixed duration, and reports
/// throughput and latency percentiles. Keys are the storage benchmark's 16-byte keys over a preloaded
/// key space, values 100 bytes; each worker has its own seeded generator, so runs are repeatable.
/// </summary>
public sealed class ClusterWorkloadRunner
{
    private const int PreloadConcurrency = 64;

    private readonly IClusterTarget _target;
    private readonly TimeSpan _duration;
    private readonly int _keyCount;
    private readonly TextWriter _log;
    private readonly bool _timeline;

    /// <param name="timeline">Also log each run's latency per quarter second (see <see cref="PrintTimeline"/>).</param>
    public ClusterWorkloadRunner(IClusterTarget target, TimeSpan duration, int keyCount, TextWriter log, bool timeline = false)
    {
        _target = target;
        _duration = duration;
        _keyCount = keyCount;
        _log = log;
        _timeline = timeline;
    }

    /// <summary>Writes every key once so that reads in the mixes find data.</summary>
    public async Task PreloadAsync(CancellationToken cancellationToken)
    {
        var next = -1;
        var workers = new Task[PreloadConcurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                var key = new byte[KeyValueFormat.KeySize];
                var value = new byte[KeyValueFormat.ValueSize];
                int index;
                while ((index = Interlocked.Increment(ref next)) < _keyCount)
                {
                    KeyValueFormat.WriteKey(index, key);
                    KeyValueFormat.WriteValue(index, 0, value);
                    await _target.PutAsync(key, value, cancellationToken).ConfigureAwait(false);
                }
            }, cancellationToken);
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    public async Task<ClusterRunResult> RunAsync(ClusterMix mix, int concurrency, CancellationToken cancellationToken)
    {
        var latencies = new List<long>[concurrency];
        var completions = new List<long>[concurrency];
        var errors = new long[concurrency];
        var serverCpuBefore = ProcessCpu.Total(_target.ServerProcessIds);
        var clientCpuBefore = ProcessCpu.Self();
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(_duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var worker = w;
            latencies[w] = new List<long>(4096);
            completions[w] = new List<long>(4096);
            workers[w] = Task.Run(() => WorkerAsync(mix, concurrency, worker, deadline, latencies[worker], completions[worker], errors, cancellationToken), cancellationToken);
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var clientCpu = ProcessCpu.Self() - clientCpuBefore;
        var serverCpu = ProcessCpu.Total(_target.ServerProcessIds) - serverCpuBefore;

        var all = new List<long>();
        long errorCount = 0;
        for (var w = 0; w < concurrency; w++)
        {
            all.AddRange(latencies[w]);
            errorCount += errors[w];
        }
        if (_timeline)
        {
            PrintTimeline(start, latencies, completions);
        }
        all.Sort();
        var result = new ClusterRunResult(
            _target.Name, mix.Name, concurrency, all.Count, errorCount,
            all.Count / elapsed.TotalSeconds,
            Percentile(all, 0.50), Percentile(all, 0.99), Percentile(all, 0.999),
            PerOperation(serverCpu, all.Count, _target.ServerProcessIds.Count > 0), PerOperation(clientCpu, all.Count, true));
        _log.WriteLine($"[{_target.Name}] {result.Key,-10} {result.OpsPerSecond,10:N0} ops/s  p50 {result.P50Milliseconds:F2} ms  " +
                       $"p99 {result.P99Milliseconds:F2} ms  p999 {result.P999Milliseconds:F2} ms  errors {errorCount}  " +
                       $"cpu/op server {result.ServerCpuMicrosPerOp:F0} us client {result.ClientCpuMicrosPerOp:F0} us");
        return result;
    }

    /// <summary>
    /// Logs, per quarter second of the run (by completion time, wall clock UTC), the operations completed and their
    /// p50, p99 and maximum latency. A tail that comes from one event (a flush, a GC, a stalled device) shows up
    /// as one or two slow slices whose time can be matched against server logs; a tail spread evenly does not.
    /// </summary>
    private void PrintTimeline(long start, List<long>[] latencies, List<long>[] completions)
    {
        var slice = Stopwatch.Frequency / 4;
        var wallStart = DateTime.UtcNow - Stopwatch.GetElapsedTime(start);
        var buckets = new SortedDictionary<long, List<long>>();
        for (var w = 0; w < latencies.Length; w++)
        {
            for (var i = 0; i < latencies[w].Count; i++)
            {
                var b = (completions[w][i] - start) / slice;
                if (!buckets.TryGetValue(b, out var list))
                {
                    buckets[b] = list = new List<long>();
                }
                list.Add(latencies[w][i]);
            }
        }
        foreach (var (b, list) in buckets)
        {
            list.Sort();
            _log.WriteLine($"  {wallStart.AddSeconds(b * 0.25):HH:mm:ss.ff} t={b * 0.25:F2}s n={list.Count,6} p50 {Percentile(list, 0.5),6:F2} p99 {Percentile(list, 0.99),6:F2} max {Percentile(list, 1.0),6:F2}");
        }
    }

    private async Task WorkerAsync(ClusterMix mix, int concurrency, int worker, long deadline, List<long> latencies, List<long> completions, long[] errors, CancellationToken cancellationToken)
    {
        var random = new SplitMix64(((ulong)mix.ReadPercent << 40) ^ ((ulong)concurrency << 20) ^ (ulong)worker);
        var key = new byte[KeyValueFormat.KeySize];
        var value = new byte[KeyValueFormat.ValueSize];
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var index = random.NextInt(_keyCount);
            KeyValueFormat.WriteKey(index, key);
            var read = random.NextInt(100) < mix.ReadPercent;
            if (!read)
            {
                KeyValueFormat.WriteValue(index, (byte)random.Next(), value);
            }
            var begin = Stopwatch.GetTimestamp();
            try
            {
                if (read)
                {
                    await _target.GetAsync(key, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _target.PutAsync(key, value, cancellationToken).ConfigureAwait(false);
                }
                var end = Stopwatch.GetTimestamp();
                latencies.Add(end - begin);
                completions.Add(end);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Counted and reported next to the figures; a failed operation adds no latency sample.
                errors[worker]++;
            }
        }
    }

    private static double PerOperation(TimeSpan cpu, int operations, bool measured) =>
        measured && operations > 0 ? cpu.TotalMicroseconds / operations : double.NaN;

    private static double Percentile(List<long> sortedTicks, double quantile)
    {
        if (sortedTicks.Count == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(quantile * sortedTicks.Count) - 1;
        var ticks = sortedTicks[Math.Clamp(rank, 0, sortedTicks.Count - 1)];
        return ticks * 1000.0 / Stopwatch.Frequency;
    }
}
