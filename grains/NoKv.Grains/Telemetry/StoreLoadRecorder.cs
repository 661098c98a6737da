using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Telemetry;
using NoKv.Grains.Hosting;
using NoKv.Grains.Store;
using NoKv.Replica.Diagnostics;
using Orleans.Runtime;

namespace NoKv.Grains.Telemetry;

/// <summary>
/// Samples this store's request statistics (<see cref="StoreRequestStats"/>) once a second into a ring of
/// <see cref="Capacity"/> <see cref="LoadSample"/>s: the throughput and latency series of the dashboard. Runs from
/// silo start to shutdown on a background task; reading the statistics is a copy of a few arrays, so the cost is
/// independent of the request rate. Thread-safe.
/// </summary>
public sealed partial class StoreLoadRecorder : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Samples kept: five minutes.</summary>
    public const int Capacity = 300;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly LocalStore _store;
    private readonly ILogger<StoreLoadRecorder> _logger;
    private readonly Queue<LoadSample> _samples = new();
    private readonly long[][] _previous = NewBuckets();
    private readonly long[][] _current = NewBuckets();
    private readonly long[] _previousRequests = new long[StoreRequestStats.KindCount];
    private readonly long[] _previousErrors = new long[StoreRequestStats.KindCount];
    private readonly SiloTimerLoop _loop;
    private StoreRequestStats? _stats;
    private long _previousTimestamp;

    public StoreLoadRecorder(LocalStore store, ILogger<StoreLoadRecorder> logger)
    {
        _store = store;
        _logger = logger;
        _loop = new SiloTimerLoop(Interval, SampleTick);
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StoreLoadRecorder), ServiceLifecycleStage.Active, StartAsync, _loop.StopAsync);

    /// <summary>The samples so far, oldest first.</summary>
    public LoadSample[] Samples()
    {
        lock (_samples)
        {
            return _samples.ToArray();
        }
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _stats = StoreRequestStats.For(_store.Id);
        Capture(_stats);
        _loop.Start();
        return Task.CompletedTask;
    }

    private Task SampleTick(CancellationToken cancellationToken)
    {
        try
        {
            Sample(_stats!);
        }
        catch (Exception e)
        {
            // A bug here must not end the series silently, nor take the silo down.
            LogSampleFailed(e);
        }

        return Task.CompletedTask;
    }

    private void Sample(StoreRequestStats stats)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        double seconds = Math.Max(1e-3, (now - _previousTimestamp) / (double)System.Diagnostics.Stopwatch.Frequency);
        for (int k = 0; k < StoreRequestStats.KindCount; k++)
        {
            stats.Latency((RequestKind)k).CopyTo(_current[k]);
        }

        double Rate(RequestKind kind) => (stats.Requests(kind) - _previousRequests[(int)kind]) / seconds;
        double errors = 0;
        for (int k = 0; k < StoreRequestStats.KindCount; k++)
        {
            errors += stats.Errors((RequestKind)k) - _previousErrors[k];
        }

        int write = (int)RequestKind.Write, get = (int)RequestKind.Get;
        var sample = new LoadSample
        {
            UnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            WritesPerSecond = Rate(RequestKind.Write),
            GetsPerSecond = Rate(RequestKind.Get),
            ScansPerSecond = Rate(RequestKind.Scan),
            ErrorsPerSecond = errors / seconds,
            WriteP50Ms = LatencyBuckets.Quantile(_previous[write], _current[write], 0.50) / 1000,
            WriteP99Ms = LatencyBuckets.Quantile(_previous[write], _current[write], 0.99) / 1000,
            GetP50Ms = LatencyBuckets.Quantile(_previous[get], _current[get], 0.50) / 1000,
            GetP99Ms = LatencyBuckets.Quantile(_previous[get], _current[get], 0.99) / 1000,
        };
        lock (_samples)
        {
            _samples.Enqueue(sample);
            if (_samples.Count > Capacity)
            {
                _samples.Dequeue();
            }
        }

        for (int k = 0; k < StoreRequestStats.KindCount; k++)
        {
            Array.Copy(_current[k], _previous[k], LatencyBuckets.Count);
        }

        CaptureTotals(stats, now);
    }

    private void Capture(StoreRequestStats stats)
    {
        for (int k = 0; k < StoreRequestStats.KindCount; k++)
        {
            stats.Latency((RequestKind)k).CopyTo(_previous[k]);
        }

        CaptureTotals(stats, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    private void CaptureTotals(StoreRequestStats stats, long timestamp)
    {
        for (int k = 0; k < StoreRequestStats.KindCount; k++)
        {
            _previousRequests[k] = stats.Requests((RequestKind)k);
            _previousErrors[k] = stats.Errors((RequestKind)k);
        }

        _previousTimestamp = timestamp;
    }

    private static long[][] NewBuckets()
    {
        var buckets = new long[StoreRequestStats.KindCount][];
        for (int k = 0; k < buckets.Length; k++)
        {
            buckets[k] = new long[LatencyBuckets.Count];
        }

        return buckets;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sampling the store's request statistics failed")]
    private partial void LogSampleFailed(Exception exception);
}
