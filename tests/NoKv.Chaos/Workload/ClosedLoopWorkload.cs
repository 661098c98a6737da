using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using NoKv.Abstractions.Errors;

namespace NoKv.Chaos.Workload;

/// <summary>
/// Closed-loop workers (each waits for its operation before issuing the next) doing get, put, delete and
/// compare-and-swap through the SDK. Each worker is bound to one shard and one client host, so a stalled shard holds
/// only its own workers (a worker mixing shards would stall on the slowest and hide the others' availability).
/// Every operation is recorded with its invocation and return time; every written value is unique in the run.
/// </summary>
public sealed class ClosedLoopWorkload
{
    private readonly RunClock _clock;
    private readonly IReadOnlyList<IKvTarget> _clients;
    private readonly KeySet _keys;
    private readonly int _workersPerShard;
    private readonly int _seed;
    private readonly ConcurrentQueue<HistoryOp> _history = new();
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private readonly ConcurrentQueue<long>? _latencies;
    private long _nextValue;
    private long _failed;

    /// <param name="epoch">How long the workload stays on one generation of keys (<see cref="KeySet.Epochs"/>); ignored with one generation.</param>
    /// <param name="recordLatencies">Keep each successful operation's latency for <see cref="DrainLatencies"/> (the soak's per-minute figures).</param>
    public ClosedLoopWorkload(RunClock clock, IReadOnlyList<IKvTarget> clients, KeySet keys, int workersPerShard, int seed, TimeSpan? epoch = null, bool recordLatencies = false)
    {
        _epochTicks = epoch is { } e ? RunClock.FromMilliseconds(e.TotalMilliseconds) : 0;
        _latencies = recordLatencies ? new ConcurrentQueue<long>() : null;
        _clock = clock;
        _clients = clients;
        _keys = keys;
        _workersPerShard = workersPerShard;
        _seed = seed;
    }

    private readonly long _epochTicks;

    public IReadOnlyList<HistoryOp> History => _history.ToArray();

    /// <summary>Failed operations so far.</summary>
    public long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>Takes the latencies (run clock ticks) of the operations that succeeded since the last call.</summary>
    public List<long> DrainLatencies()
    {
        var taken = new List<long>();
        while (_latencies is not null && _latencies.TryDequeue(out long latency))
        {
            taken.Add(latency);
        }

        return taken;
    }

    /// <summary>Failed operations by exception type (and error code), for the report.</summary>
    public IReadOnlyDictionary<string, int> Failures => _failures;

    /// <summary>Runs every worker until <paramref name="stop"/>; in-flight operations finish (bounded by the client's operation timeout).</summary>
    public Task RunAsync(CancellationToken stop)
    {
        var workers = new List<Task>();
        int id = 0;
        for (int shard = 0; shard < _keys.ShardIds.Length; shard++)
        {
            for (int w = 0; w < _workersPerShard; w++, id++)
            {
                int worker = id, s = shard;
                workers.Add(Task.Run(() => WorkAsync(worker, s, _clients[worker % _clients.Count], stop)));
            }
        }

        return Task.WhenAll(workers);
    }

    private async Task WorkAsync(int worker, int shard, IKvTarget kv, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(_seed, worker));
        var lastSeen = new Dictionary<int, long>();
        while (!stop.IsCancellationRequested)
        {
            int[] keys = _keys.Epochs > 1 && _epochTicks > 0 ? _keys.KeysOf(shard, (int)(_clock.Now / _epochTicks)) : _keys.KeysOfShard[shard];
            int key = keys[random.Next(keys.Length)];
            byte[] keyBytes = _keys.Keys[key];
            int roll = random.Next(100);
            var kind = roll < 40 ? OpKind.Get : roll < 70 ? OpKind.Put : roll < 78 ? OpKind.Delete : OpKind.CompareAndSwap;
            long value = kind is OpKind.Put ? NextValue() : 0, expected = 0;
            if (kind == OpKind.CompareAndSwap)
            {
                expected = lastSeen.GetValueOrDefault(key);
                value = random.Next(10) == 0 ? 0 : NextValue();
            }

            long invoke = _clock.Now;
            try
            {
                bool swapped = false;
                switch (kind)
                {
                    case OpKind.Get:
                        value = Decode(await kv.GetAsync(keyBytes));
                        lastSeen[key] = value;
                        break;
                    case OpKind.Put:
                        await kv.PutAsync(keyBytes, Encode(value));
                        lastSeen[key] = value;
                        break;
                    case OpKind.Delete:
                        await kv.DeleteAsync(keyBytes);
                        lastSeen[key] = 0;
                        break;
                    default:
                        swapped = await kv.CompareAndSwapAsync(keyBytes, Optional(expected), Optional(value));
                        if (swapped)
                        {
                            lastSeen[key] = value;
                        }

                        break;
                }

                long done = _clock.Now;
                _history.Enqueue(new HistoryOp(worker, kind, key, shard, value, expected, swapped, invoke, done, OpOutcome.Ok));
                _latencies?.Enqueue(done - invoke);
            }
            catch (Exception e)
            {
                // Whatever failed, the client does not know whether a write took effect: it may apply later or never.
                // A failure that came back at once (a refused connection) must not make the worker spin.
                if (_clock.Now - invoke < RunClock.FromMilliseconds(20))
                {
                    await Task.Delay(20, CancellationToken.None);
                }

                _history.Enqueue(new HistoryOp(worker, kind, key, shard, kind == OpKind.Get ? 0 : value, expected, false, invoke, long.MaxValue, OpOutcome.Unknown));
                string name = e is NoKvException nokv ? $"{e.GetType().Name}({nokv.Code})" : e.GetType().Name;
                _failures.AddOrUpdate(name, 1, (_, n) => n + 1);
                Interlocked.Increment(ref _failed);
            }
        }
    }

    /// <summary>Absent for 0.</summary>
    private static byte[]? Optional(long value) => value == 0 ? null : Encode(value);

    private long NextValue() => Interlocked.Increment(ref _nextValue);

    private static byte[] Encode(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>0 for absent; -1 for bytes no writer of this run could have written (the checker then reports the key).</summary>
    public static long Decode(byte[]? bytes) =>
        bytes is null ? 0 : long.TryParse(Encoding.ASCII.GetString(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0 ? v : -1;
}
