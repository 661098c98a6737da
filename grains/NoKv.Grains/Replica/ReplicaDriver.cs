using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Placement;
using NoKv.Replica;
using Orleans.Runtime;

namespace NoKv.Grains.Replica;

/// <summary>
/// The one clock of a silo's replicas: a single periodic loop that, every <see cref="ReplicaOptions.TickInterval"/>,
/// reads membership once (which stores have a live silo) and asks every registered replica to tick. Replaces a grain
/// timer and a membership scan per replica: with a thousand replicas per silo those were a thousand timer turns
/// and a thousand scans of silo metadata every tick, most of a core spent on shards that did nothing
/// (docs/replica.md, "Many shards per store").
/// <para>Thread-safe. The loop runs on the thread pool and never touches a replica's state: a replica schedules its
/// tick onto its own activation (<see cref="IDrivenReplica.ScheduleTick"/>), which keeps the replica core's
/// one-logical-thread rule.</para>
/// </summary>
public sealed partial class ReplicaDriver : IDisposable
{
    private readonly ConcurrentDictionary<ShardId, IDrivenReplica> _replicas = new();
    private readonly ReplicaOptions _options;
    private readonly ISiloStatusOracle _oracle;
    private readonly StoreDirectory _stores;
    private readonly ILogger<ReplicaDriver> _logger;
    private readonly CancellationTokenSource _stop = new();
    private int _started;
    private long _ticks;

    // When each store was last heard from (any Raft envelope), in Environment.TickCount64 milliseconds.
    private readonly ConcurrentDictionary<StoreId, long> _heard = new();

    // Stores whose last envelope said their disk is slow (the value is unused).
    private readonly ConcurrentDictionary<StoreId, byte> _slowDisks = new();

    // Stores with an active silo, and that silo, as of the last tick; replaced whole, read from any thread.
    private volatile IReadOnlyDictionary<StoreId, SiloAddress> _liveStores = new Dictionary<StoreId, SiloAddress>();

    public ReplicaDriver(IOptions<ReplicaOptions> options, ISiloStatusOracle oracle, StoreDirectory stores, ILogger<ReplicaDriver> logger)
    {
        _options = options.Value;
        _oracle = oracle;
        _stores = stores;
        _logger = logger;
    }

    /// <summary>Replicas registered now (active on this silo).</summary>
    public int Count => _replicas.Count;

    /// <summary>Starts ticking <paramref name="replica"/> (replacing an earlier registration of the shard).</summary>
    public void Register(ShardId shard, IDrivenReplica replica)
    {
        _replicas[shard] = replica;
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            RefreshStores();
            _ = RunAsync(_stop.Token);
        }
    }

    /// <summary>Stops ticking <paramref name="replica"/>; a newer registration of the same shard stays.</summary>
    public void Unregister(ShardId shard, IDrivenReplica replica) =>
        _replicas.TryRemove(new KeyValuePair<ShardId, IDrivenReplica>(shard, replica));

    /// <summary>The registered replica of <paramref name="shard"/>, if it is active here.</summary>
    public IDrivenReplica? Find(ShardId shard) => _replicas.TryGetValue(shard, out var replica) ? replica : null;

    /// <summary>Ticks since the silo started; a tick's identity for things that last until the next one.</summary>
    public long Ticks => Volatile.Read(ref _ticks);

    /// <summary>Raised on the driver's thread after every tick, with the tick's number (the transport beats on it).</summary>
    public event Action<long>? Ticked;

    /// <summary>The stores with an active silo as of the last tick.</summary>
    public IEnumerable<StoreId> LiveStores => _liveStores.Keys;

    /// <summary>An envelope from <paramref name="store"/> arrived now, saying whether that store's disk is slow.</summary>
    public void HeardFrom(StoreId store, bool diskSlow = false)
    {
        _heard[store] = Environment.TickCount64;
        if (diskSlow)
        {
            _slowDisks[store] = 0;
        }
        else
        {
            _slowDisks.TryRemove(store, out _);
        }
    }

    /// <summary>Whether <paramref name="store"/>'s last envelope said its disk is slow (false if never heard from).</summary>
    public bool IsStoreDiskSlow(StoreId store) => _slowDisks.ContainsKey(store);

    /// <summary>When <paramref name="store"/> was last heard from (Environment.TickCount64 ms), or null if never.</summary>
    public long? LastHeardFrom(StoreId store) => _heard.TryGetValue(store, out long at) ? at : null;

    /// <summary>Whether <paramref name="store"/> had an active silo at the last tick.</summary>
    public bool IsStoreUp(StoreId store) => _liveStores.ContainsKey(store);

    /// <summary>The active silo of <paramref name="store"/> as of the last tick, or null.</summary>
    public SiloAddress? SiloOf(StoreId store) => _liveStores.TryGetValue(store, out var silo) ? silo : null;

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    RefreshStores();
                    long tick = Interlocked.Increment(ref _ticks);
                    long now = Environment.TickCount64;
                    _silence.Clear();
                    foreach (var (_, replica) in _replicas)
                    {
                        // A hibernating replica needs a tick only to notice a silent peer store (which wakes it).
                        if (replica.HibernatingWith is not { } stores || AnySilent(stores, now))
                        {
                            replica.ScheduleTick();
                        }
                    }

                    Ticked?.Invoke(tick);
                }
                catch (Exception e)
                {
                    // A bad tick must not stop the clock of every replica on the silo.
                    LogTickFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Silo shutdown.
        }
    }

    // Per tick: whether each store asked about is silent (no live silo, or nothing heard for an election timeout).
    // Only the driver's loop touches it.
    private readonly Dictionary<StoreId, bool> _silence = new();

    private bool AnySilent(IReadOnlyList<StoreId> stores, long now)
    {
        long threshold = _options.ElectionTicks * (long)_options.TickInterval.TotalMilliseconds;
        foreach (var store in stores)
        {
            if (!_silence.TryGetValue(store, out bool silent))
            {
                silent = !IsStoreUp(store) || !_heard.TryGetValue(store, out long at) || now - at > threshold;
                _silence[store] = silent;
            }

            if (silent)
            {
                return true;
            }
        }

        return false;
    }

    private void RefreshStores()
    {
        var live = new Dictionary<StoreId, SiloAddress>();
        foreach (var (silo, status) in _oracle.GetApproximateSiloStatuses(onlyActive: true))
        {
            if (status == SiloStatus.Active && _stores.StoreOf(silo) is { } store)
            {
                live[store] = silo;
            }
        }

        _liveStores = live;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica driver: a tick failed")]
    private partial void LogTickFailed(Exception e);
}
