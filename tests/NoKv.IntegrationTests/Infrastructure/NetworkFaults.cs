using NoKv.Abstractions.Sharding;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Faults injected into replica-to-replica Raft traffic by <see cref="RaftFaultFilter"/>: dropped and
/// delayed batches and partitions between stores. One instance per test cluster, shared by its in-process
/// silos. Thread-safe.
/// </summary>
public sealed class NetworkFaults
{
    private readonly object _gate = new();
    private readonly HashSet<(int From, int To)> _cut = new();
    private Random _random = new(1);
    private double _dropRate;
    private int _maxDelayMs;

    public int Dropped { get; private set; }

    public int Delayed { get; private set; }

    public void Reseed(int seed)
    {
        lock (_gate)
        {
            _random = new Random(seed);
        }
    }

    /// <summary>Drops this fraction of batches (0 = none).</summary>
    public void SetDropRate(double rate)
    {
        lock (_gate)
        {
            _dropRate = rate;
        }
    }

    /// <summary>Delays each batch by a random 0..max milliseconds, which also reorders them.</summary>
    public void SetMaxDelay(int milliseconds)
    {
        lock (_gate)
        {
            _maxDelayMs = milliseconds;
        }
    }

    /// <summary>Cuts both directions between <paramref name="isolated"/> and every other store.</summary>
    public void Isolate(StoreId isolated, IEnumerable<StoreId> all)
    {
        lock (_gate)
        {
            foreach (var other in all)
            {
                if (other != isolated)
                {
                    _cut.Add((isolated.Value, other.Value));
                    _cut.Add((other.Value, isolated.Value));
                }
            }
        }
    }

    public void Heal()
    {
        lock (_gate)
        {
            _cut.Clear();
            _dropRate = 0;
            _maxDelayMs = 0;
        }
    }

    /// <summary>Decides the fate of one batch: drop it, or deliver it after the returned delay.</summary>
    public (bool Drop, int DelayMs) Decide(StoreId from, StoreId to)
    {
        lock (_gate)
        {
            if (_cut.Contains((from.Value, to.Value)) || (_dropRate > 0 && _random.NextDouble() < _dropRate))
            {
                Dropped++;
                return (true, 0);
            }

            int delay = _maxDelayMs > 0 ? _random.Next(_maxDelayMs + 1) : 0;
            if (delay > 0)
            {
                Delayed++;
            }

            return (false, delay);
        }
    }
}
