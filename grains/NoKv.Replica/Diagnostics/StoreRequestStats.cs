using System.Collections.Concurrent;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Diagnostics;

/// <summary>
/// Running totals of the client requests all replicas of one store answered: count, errors and a latency histogram
/// per <see cref="RequestKind"/>. The silo samples them once a second for the HTTP API's throughput and latency
/// series (the same requests also feed <see cref="ReplicaTelemetry"/>'s instruments, for exporters). One instance
/// per store id in the process (a test host runs several stores in one process). Thread-safe, allocation-free to
/// record.
/// </summary>
public sealed class StoreRequestStats
{
    private static readonly ConcurrentDictionary<StoreId, StoreRequestStats> Stores = new();

    private readonly long[] _requests = new long[KindCount];
    private readonly long[] _errors = new long[KindCount];
    private readonly LatencyBuckets[] _latency = [new(), new(), new()];

    public const int KindCount = 3;

    /// <summary>The statistics of <paramref name="store"/>, created on first use.</summary>
    public static StoreRequestStats For(StoreId store) => Stores.GetOrAdd(store, static _ => new StoreRequestStats());

    public void Record(RequestKind kind, bool ok, long micros)
    {
        Interlocked.Increment(ref _requests[(int)kind]);
        if (!ok)
        {
            Interlocked.Increment(ref _errors[(int)kind]);
        }

        _latency[(int)kind].Record(micros);
    }

    public long Requests(RequestKind kind) => Volatile.Read(ref _requests[(int)kind]);

    public long Errors(RequestKind kind) => Volatile.Read(ref _errors[(int)kind]);

    public LatencyBuckets Latency(RequestKind kind) => _latency[(int)kind];
}
