using System.Diagnostics;
using System.Globalization;
using System.Text;
using NoKv.Benchmarks.Common;
using NoKv.Client;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Closed-loop clients (half gets, half puts of one value on keys 0..keys-1) that record completed operations, errors
/// and latency per second of a run, and the report the `split` and `move` subcommands print around an operation (issue
/// 11's "throughput and p99 by second ... against steady state"): one line per second with the operation's span
/// marked, and the targets: no second without completed operations from the operation's start on, and no such second's
/// p99 above 3x the steady p99 (the seconds before the operation, the first one excepted as warm-up).
/// </summary>
public sealed class LoadBySecond : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<(long Ops, long Errors, LatencyHistogram Histogram)> _seconds = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _clients;
    private readonly SlowOperationTrace? _trace;

    private LoadBySecond(IKvStore store, int keys, byte[] value, int concurrency, CancellationToken cancellationToken)
    {
        _trace = SlowOperationTrace.FromEnvironment(_clock);
        _clients = Enumerable.Range(0, concurrency).Select(c => Task.Run(() => RunClientAsync(store, keys, value, c, cancellationToken), CancellationToken.None)).ToArray();
    }

    /// <summary>Seconds since the clients started.</summary>
    public double Elapsed => _clock.Elapsed.TotalSeconds;

    public static LoadBySecond Start(IKvStore store, int keys, byte[] value, int concurrency, CancellationToken cancellationToken) =>
        new(store, keys, value, concurrency, cancellationToken);

    /// <summary>
    /// Puts keys 0..<paramref name="keys"/>-1 with one random value of <paramref name="valueBytes"/> bytes (64 writers)
    /// and prints how long it took, under <paramref name="tag"/>; returns the value, for the clients' puts.
    /// </summary>
    public static async Task<byte[]> FillAsync(IKvStore store, int keys, int valueBytes, string tag, CancellationToken cancellationToken)
    {
        var value = new byte[valueBytes];
        new Random(1).NextBytes(value);
        var load = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, keys), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
            await store.PutAsync(Key(i), value, ct).ConfigureAwait(false)).ConfigureAwait(false);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{tag}] loaded {keys} keys of {valueBytes} bytes in {load.Elapsed.TotalSeconds:F1} s"));
        return value;
    }

    public static byte[] Key(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"key-{i:D8}"));

    /// <summary>Stops the clients and waits for their last operations.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_clients).ConfigureAwait(false);
        _trace?.Dispose();
    }

    /// <summary>
    /// Prints the per-second table and the target line for an operation named <paramref name="name"/> that ran from
    /// <paramref name="start"/> to <paramref name="end"/> (seconds of <see cref="Elapsed"/>). Call after <see cref="StopAsync"/>.
    /// </summary>
    /// <returns>True when both targets are met.</returns>
    public bool Report(string name, string heading, double start, double end)
    {
        // Second 0 warms the clients up; the last second is cut short by the stop.
        var steadyAll = new LatencyHistogram();
        long steadyOps = 0;
        for (int s = 1; s < (int)start; s++)
        {
            steadyAll.Add(_seconds[s].Histogram);
            steadyOps += _seconds[s].Ops;
        }

        double steadyP99 = steadyAll.Quantile(0.99) / 1e6;
        double steadyRate = steadyOps / Math.Max(1.0, (int)start - 1);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{heading}: steady {steadyRate:N0} ops/s p99 {steadyP99:F2} ms; {name} {start:F2}-{end:F2} s ({(end - start) * 1000:F0} ms)"));
        int emptySeconds = 0;
        double worstP99 = 0;
        for (int s = 1; s < _seconds.Count - 1; s++)
        {
            var (ops, errors, histogram) = _seconds[s];
            double p99 = histogram.Count == 0 ? double.NaN : histogram.Quantile(0.99) / 1e6;
            string mark = s + 1 > start && s < end ? $"  <- {name}" : string.Empty;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  second {s,3}: {ops,7:N0} ops  p99 {p99,8:F2} ms  errors {errors}{mark}"));
            if (s >= (int)start)
            {
                emptySeconds += ops == 0 ? 1 : 0;
                worstP99 = Math.Max(worstP99, double.IsNaN(p99) ? 0 : p99);
            }
        }

        bool met = emptySeconds == 0 && worstP99 <= 3 * steadyP99;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} targets: seconds without completed operations {emptySeconds} (target 0), worst p99 from the {name} on {worstP99:F2} ms = {worstP99 / steadyP99:F1}x steady (target <= 3x): {(met ? "MET" : "MISSED")}"));
        return met;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunClientAsync(IKvStore store, int keys, byte[] value, int client, CancellationToken cancellationToken)
    {
        var random = new Random(client + 11);
        while (!_stop.IsCancellationRequested)
        {
            long before = Stopwatch.GetTimestamp();
            bool failed = false;
            try
            {
                byte[] key = Key(random.Next(keys));
                if (random.Next(2) == 0)
                {
                    await store.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await store.PutAsync(key, value, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed = true;
            }

            long nanos = (long)(Stopwatch.GetElapsedTime(before).TotalMilliseconds * 1e6);
            int second = (int)_clock.Elapsed.TotalSeconds;
            lock (_gate)
            {
                while (_seconds.Count <= second)
                {
                    _seconds.Add((0, 0, new LatencyHistogram()));
                }

                var (ops, errors, histogram) = _seconds[second];
                if (!failed)
                {
                    histogram.Record(nanos);
                }

                _seconds[second] = (ops + (failed ? 0 : 1), errors + (failed ? 1 : 0), histogram);
            }
        }
    }
}
