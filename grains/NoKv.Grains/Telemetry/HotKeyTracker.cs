using System.Runtime.InteropServices;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Telemetry;

namespace NoKv.Grains.Telemetry;

/// <summary>
/// The keys this store's leaders serve most, per window of <see cref="Window"/>: the Space-Saving algorithm over
/// at most <see cref="Capacity"/> counters, so memory and the cost per request stay fixed however many distinct keys
/// pass. A key not counted when all counters are taken replaces the smallest one and inherits its count as its
/// possible overcount (its error); a key is reported only when its guaranteed count (count - error) reaches
/// <see cref="MinShare"/> of the window's requests and <see cref="MinRequests"/>, so a uniform load reports nothing.
/// Reports describe the last complete window. Thread-safe (one lock; requests hold it for a dictionary lookup).
/// </summary>
public sealed class HotKeyTracker
{
    public const int Capacity = 64;

    /// <summary>Keys reported per window at most.</summary>
    public const int MaxReported = 16;

    public const double MinShare = 0.01;

    public const long MinRequests = 20;

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly Dictionary<Counted, Counter> _counters = new(Capacity, new CountedComparer());
    private long _windowStart;
    private long _windowRequests;
    private HotKeyReport[] _last = [];
    private long _lastEnd;

    public HotKeyTracker()
        : this(TimeProvider.System)
    {
    }

    public HotKeyTracker(TimeProvider time)
    {
        _time = time;
        _windowStart = time.GetTimestamp();
    }

    /// <summary>Counts one request a leader of <paramref name="shard"/> served for <paramref name="key"/> (kept by reference: request keys are not reused).</summary>
    public void Record(ShardId shard, byte[] key)
    {
        long now = _time.GetTimestamp();
        lock (_counters)
        {
            RollIfDue(now);
            _windowRequests++;
            var counted = new Counted(shard, key);
            ref var counter = ref CollectionsMarshal.GetValueRefOrNullRef(_counters, counted);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref counter))
            {
                counter.Count++;
                return;
            }

            if (_counters.Count < Capacity)
            {
                _counters[counted] = new Counter { Count = 1 };
                return;
            }

            // Replace the smallest counter: the newcomer may have been counted there all along, so it inherits that
            // count as its error (Space-Saving's overestimate bound).
            var smallest = default(Counted);
            long min = long.MaxValue;
            foreach (var (k, c) in _counters)
            {
                if (c.Count < min)
                {
                    min = c.Count;
                    smallest = k;
                }
            }

            _counters.Remove(smallest);
            _counters[counted] = new Counter { Count = min + 1, Error = min };
        }
    }

    /// <summary>The hot keys of the last complete window, hottest first; empty when that window is over a window old (no traffic since).</summary>
    public HotKeyReport[] Report()
    {
        long now = _time.GetTimestamp();
        lock (_counters)
        {
            RollIfDue(now);
            return _time.GetElapsedTime(_lastEnd, now) <= Window ? _last : [];
        }
    }

    private void RollIfDue(long now)
    {
        var elapsed = _time.GetElapsedTime(_windowStart, now);
        if (elapsed < Window)
        {
            return;
        }

        double seconds = elapsed.TotalSeconds;
        long floor = Math.Max(MinRequests, (long)Math.Ceiling(_windowRequests * MinShare));
        _last = _counters
            .Where(e => e.Value.Count - e.Value.Error >= floor)
            .OrderByDescending(e => e.Value.Count - e.Value.Error)
            .Take(MaxReported)
            .Select(e => new HotKeyReport { Shard = e.Key.Shard.Value, Key = e.Key.Key, RequestsPerSecond = (e.Value.Count - e.Value.Error) / seconds })
            .ToArray();
        _lastEnd = now;
        _counters.Clear();
        _windowRequests = 0;
        _windowStart = now;
    }

    private readonly record struct Counted(ShardId Shard, byte[] Key);

    private struct Counter
    {
        public long Count;
        public long Error;
    }

    private sealed class CountedComparer : IEqualityComparer<Counted>
    {
        public bool Equals(Counted x, Counted y) => x.Shard == y.Shard && x.Key.AsSpan().SequenceEqual(y.Key);

        public int GetHashCode(Counted obj)
        {
            var hash = new HashCode();
            hash.Add(obj.Shard);
            hash.AddBytes(obj.Key);
            return hash.ToHashCode();
        }
    }
}
