using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Controller;
using NoKv.Grains.Layout;
using NoKv.Grains.Placement;
using NoKv.Replica.Controller;
using Orleans.Concurrency;

namespace NoKv.Grains.Metadata;

/// <summary>
/// Serves the shard map committed in the controller group (row <see cref="ControllerRows.Map"/>), with live store
/// status from this silo's membership view. A stateless worker, so each silo answers from its own activation and the
/// map stays reachable while any silo is up; it reads the map again once its copy is older than
/// <see cref="NoKvControllerOptions.MapCacheTtl"/> (concurrent callers share one read). While the controller group
/// cannot answer (no quorum, or not yet seeded) it serves the newest map it has, at worst the bootstrap layout's:
/// routing then works as well as a stale map can, and a replica's WrongShard makes clients ask again.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
public sealed partial class ShardMapGrain : Grain, IShardMapGrain
{
    private readonly ClusterLayout _layout;
    private readonly StoreDirectory _stores;
    private readonly ControllerGroupClient _group;
    private readonly NoKvControllerOptions _options;
    private const long NewerMapSpacingMs = 20;
    private readonly ILogger<ShardMapGrain> _logger;
    private ShardDescriptor[] _shards;
    private long _version;
    // Unset until the first read: the first call always reads the controller's map (now - long.MinValue overflowed,
    // so a fresh activation never refreshed and served the bootstrap map forever).
    private long? _readAtMs;
    private Task? _refresh;
    private bool _warned;

    public ShardMapGrain(IGrainFactory grains, ClusterLayout layout, StoreDirectory stores, ControllerMembershipFile membership, IOptions<NoKvControllerOptions> options, ILogger<ShardMapGrain> logger)
    {
        _layout = layout;
        _stores = stores;
        _options = options.Value;
        _logger = logger;
        _shards = layout.BootstrapMap.Shards;
        _version = layout.BootstrapMap.Version;

        // Short timeouts: a client waiting for a map is better served by the copy at hand than by a long wait.
        _group = new ControllerGroupClient(new GrainControllerTransport(grains, stores.ActiveStores), membership.Membership, Random.Shared.Next(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
    }

    public Task<ShardMap> GetShardMapAsync() => GetShardMapAsync(long.MinValue);

    public async Task<ShardMap> GetShardMapAsync(long newerThan)
    {
        long age = _readAtMs is { } readAt ? Environment.TickCount64 - readAt : long.MaxValue;

        // A caller that saw WrongShard with this copy's version needs the controller's map now, not after the cache
        // period (waiting it out was most of a split's latency spike); reads stay at most one per NewerMapSpacingMs.
        bool stale = _version <= newerThan && age >= NewerMapSpacingMs;
        if (stale || age > (long)_options.MapCacheTtl.TotalMilliseconds)
        {
            _refresh ??= RefreshAsync();
            try
            {
                // A healthy controller answers in milliseconds; past this the copy at hand is the better answer.
                await _refresh.WaitAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(true);
            }
            catch (TimeoutException)
            {
                // The refresh goes on and serves the next caller.
            }
        }

        var storeIds = new SortedSet<int>(_layout.Stores.Select(s => s.Value));
        foreach (var shard in _shards)
        {
            foreach (var peer in shard.Peers)
            {
                storeIds.Add(peer.Store.Value);
            }
        }

        var stores = new List<StoreDescriptor>(storeIds.Count);
        foreach (int id in storeIds)
        {
            var silo = _stores.FindActiveSilo(new StoreId(id));
            stores.Add(new StoreDescriptor(new StoreId(id), silo?.ToString(), silo is not null));
        }

        return new ShardMap(_version, _shards, stores.ToArray());
    }

    private async Task RefreshAsync()
    {
        try
        {
            if (await _group.ReadAsync(ControllerRows.Map).ConfigureAwait(true) is { } row)
            {
                var map = ControllerMap.Decode(row);
                if (map.Version >= _version)
                {
                    _shards = map.Shards;
                    _version = map.Version;
                }
            }

            _readAtMs = Environment.TickCount64;
            _warned = false;
        }
        catch (Exception e)
        {
            // Try again after the cache period, not on every call.
            _readAtMs = Environment.TickCount64;
            if (!_warned)
            {
                _warned = true;
                LogServingCached(_version, $"{e.GetType().Name}: {e.Message}");
            }
        }
        finally
        {
            _refresh = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard map: the controller did not answer ({Error}); serving map version {Version} from this silo's copy")]
    private partial void LogServingCached(long version, string error);
}
