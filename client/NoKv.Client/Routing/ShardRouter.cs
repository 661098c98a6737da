using System.Collections.Concurrent;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Routing;

/// <summary>
/// The client's routing cache: the newest shard map seen and the last known leader of each shard.
/// Thread-safe. The map is replaced atomically; at most one refresh runs at a time and concurrent callers
/// that saw the same stale map share its result.
/// </summary>
internal sealed class ShardRouter
{
    private readonly IGrainFactory _grains;
    private readonly StoreRoutes _routes;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly ConcurrentDictionary<ShardId, StoreId> _leaders = new();
    private volatile ShardMap? _map;

    public ShardRouter(IGrainFactory grains, StoreRoutes routes)
    {
        _grains = grains;
        _routes = routes;
    }

    public StoreRoutes Routes => _routes;

    public ValueTask<ShardMap> GetMapAsync(CancellationToken cancellationToken)
    {
        var map = _map;
        return map is not null ? ValueTask.FromResult(map) : new ValueTask<ShardMap>(RefreshAsync(null, cancellationToken));
    }

    /// <summary>Fetches the map again unless another caller already replaced <paramref name="stale"/>.</summary>
    public async Task<ShardMap> RefreshAsync(ShardMap? stale, CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _map;
            if (current is not null && !ReferenceEquals(current, stale))
            {
                return current;
            }

            var fetched = await _grains.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync()
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            if (current is null || fetched.Version >= current.Version)
            {
                _map = fetched;
                return fetched;
            }

            return current;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>
    /// The store to try on <paramref name="attempt"/> (0-based): the cached leader first, then the replicas
    /// in rotation, so a dead or partitioned leader is skipped instead of retried forever.
    /// </summary>
    public StoreId ChooseReplica(ShardDescriptor shard, int attempt, bool leaderOnly)
    {
        var replicas = shard.Replicas;
        if (leaderOnly && _leaders.TryGetValue(shard.Id, out var leader) && shard.HasReplicaOn(leader) && attempt % (replicas.Length + 1) == 0)
        {
            return leader;
        }

        int start = leaderOnly ? 0 : Environment.CurrentManagedThreadId;
        return replicas[(int)((uint)(start + attempt) % (uint)replicas.Length)];
    }

    public void NoteLeader(ShardId shard, StoreId store) => _leaders[shard] = store;

    public void ForgetLeader(ShardId shard, StoreId store) =>
        _leaders.TryRemove(new KeyValuePair<ShardId, StoreId>(shard, store));

    /// <summary>Where to send a request for the replica of <paramref name="shard"/> on <paramref name="store"/>: the direct route if known.</summary>
    public ReplicaEndpoint Endpoint(ShardId shard, StoreId store) =>
        _routes.Find(store) is { } service
            ? new ReplicaEndpoint(store, service)
            : new ReplicaEndpoint(store, _grains.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, store).ToGrainKey()));

    /// <summary>
    /// An attempt through <paramref name="endpoint"/> failed (no answer, silo gone, wrong store): stop using its
    /// route until rediscovered; <paramref name="quarantine"/> for transport failures (see <see cref="StoreRoutes.Forget"/>).
    /// </summary>
    public void ForgetRoute(in ReplicaEndpoint endpoint, bool quarantine)
    {
        if (endpoint.Service is { } service)
        {
            _routes.Forget(endpoint.Store, service, quarantine);
        }
    }
}
