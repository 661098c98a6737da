using System.Collections.Concurrent;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Routing;

/// <summary>
/// The client's routing cache: the newest shard map seen, the last known leader of each shard, and which stores
/// stopped answering (<see cref="Health"/>). Thread-safe. The map is replaced atomically.
/// <para>Nothing here makes one request wait for another's: replica choice reads immutable snapshots; a map
/// refresh is shared by the callers that find the same stale map (one fetch, not one per caller) but no lock is
/// held across it and each caller waits for it no longer than one fetch timeout, so a fetch stuck behind a frozen
/// gateway costs each caller at most that and the next caller starts a new fetch.</para>
/// </summary>
internal sealed class ShardRouter
{
    private readonly IGrainFactory _grains;
    private readonly StoreRoutes _routes;
    private readonly TimeProvider _time;
    private readonly TimeSpan _fetchTimeout;
    private readonly object _refreshGate = new();
    private readonly ConcurrentDictionary<ShardId, StoreId> _leaders = new();

    // Grain references are immutable and valid for the client's life: one per replica instead of a key string and a
    // factory lookup per request (about 5% of a RESP gateway silo's CPU under redis-benchmark).
    private readonly ConcurrentDictionary<ReplicaId, IShardReplicaGrain> _replicaGrains = new();
    private volatile ShardMap? _map;
    private Task<ShardMap>? _refresh;
    private long _mapFetches;
    private long _learnedSplits;
    private long _learnedReplicaSets;

    /// <param name="fetchTimeout">Longest wait for one shard map fetch (the client's attempt timeout).</param>
    public ShardRouter(IGrainFactory grains, StoreRoutes routes, StoreHealth health, TimeSpan fetchTimeout, TimeProvider time)
    {
        _grains = grains;
        _routes = routes;
        Health = health;
        _fetchTimeout = fetchTimeout;
        _time = time;
    }

    public StoreRoutes Routes => _routes;

    public StoreHealth Health { get; }

    /// <summary>Completed shard map fetches; for diagnostics and tests.</summary>
    public long MapFetches => Interlocked.Read(ref _mapFetches);

    public ValueTask<ShardMap> GetMapAsync(CancellationToken cancellationToken)
    {
        var map = _map;
        return map is not null ? ValueTask.FromResult(map) : new ValueTask<ShardMap>(RefreshAsync(null, cancellationToken));
    }

    /// <summary>
    /// Fetches the map again unless another caller already replaced <paramref name="stale"/>; joins a fetch already
    /// running. Throws <see cref="TimeoutException"/> when the fetch does not answer within the fetch timeout.
    /// </summary>
    public async Task<ShardMap> RefreshAsync(ShardMap? stale, CancellationToken cancellationToken)
    {
        var current = _map;
        if (current is not null && !ReferenceEquals(current, stale))
        {
            return current;
        }

        Task<ShardMap> fetch;
        lock (_refreshGate)
        {
            // On the pool, outside the caller's context; its end clears _refresh under this lock, so not before
            // the assignment here.
            long newerThan = stale?.Version ?? long.MinValue;
            fetch = _refresh ??= Task.Run(() => FetchAsync(newerThan));
        }

        return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<ShardMap> FetchAsync(long newerThan)
    {
        try
        {
            var grain = _grains.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster);
            var fetched = await (newerThan == long.MinValue ? grain.GetShardMapAsync() : grain.GetShardMapAsync(newerThan))
                .WaitAsync(_fetchTimeout, _time).ConfigureAwait(false);
            Interlocked.Increment(ref _mapFetches);
            var current = _map;
            if (current is null || fetched.Version >= current.Version)
            {
                _map = fetched;
                return fetched;
            }

            return current;
        }
        finally
        {
            lock (_refreshGate)
            {
                _refresh = null;
            }
        }
    }

    /// <summary>Shard descriptors learned from replicas' WrongShard answers and put into the map; for diagnostics and tests.</summary>
    public long LearnedSplits => Interlocked.Read(ref _learnedSplits);

    /// <summary>
    /// Takes what a replica's WrongShard answer says about <paramref name="routed"/> (the descriptor the request was
    /// routed by): if a prefix of <paramref name="current"/> (the replica's descriptor, then the shards split off its
    /// end) covers exactly <paramref name="routed"/>'s range, contiguously and every one with a newer epoch, the map
    /// gets that prefix in place of <paramref name="routed"/>, keeping its version (so the controller's map, once it
    /// records the split, replaces it; a fetched map of the same version replaces it too, so a wrong guess never
    /// outlives a refresh). True when the caller should route again at once: the map now has the prefix, or no longer
    /// has <paramref name="routed"/>. False when the answer says nothing usable (a merge, a replica behind the map,
    /// splits it does not know of): refresh from the controller instead.
    /// </summary>
    public bool TryLearn(ShardDescriptor routed, ShardDescriptor[]? current)
    {
        int count = CoveringPrefix(routed, current);
        if (count == 0)
        {
            return false;
        }

        var map = _map;
        if (map is null)
        {
            return false;
        }

        int at = Array.IndexOf(map.Shards, map.FindShard(routed.Range.Start));
        var found = map.Shards[at];
        if (found.Id != routed.Id || found.Epoch != routed.Epoch || !found.Range.End.AsSpan().SequenceEqual(routed.Range.End))
        {
            // Another caller (or a fetch) already replaced it.
            return true;
        }

        var shards = new ShardDescriptor[map.Shards.Length - 1 + count];
        Array.Copy(map.Shards, shards, at);
        Array.Copy(current!, 0, shards, at, count);
        Array.Copy(map.Shards, at + 1, shards, at + count, map.Shards.Length - at - 1);
        var learned = new ShardMap(map.Version, shards, map.Stores);

        // Only over the map just read: a fetch that stored a newer map meanwhile wins.
        if (ReferenceEquals(Interlocked.CompareExchange(ref _map, learned, map), map))
        {
            Interlocked.Increment(ref _learnedSplits);
        }

        return true;
    }

    /// <summary>Replica sets learned from replicas' NotLeader answers and put into the map; for diagnostics and tests.</summary>
    public long LearnedReplicaSets => Interlocked.Read(ref _learnedReplicaSets);

    /// <summary>
    /// Takes what a replica's NotLeader answer says about <paramref name="routed"/>: if its descriptor (the first of
    /// <paramref name="current"/>) is the same shard with the same range and epoch, a newer replica set (a move or a
    /// re-replication committed by the replicas before the controller's map) and lists <paramref name="leader"/>, the
    /// map takes it in place of <paramref name="routed"/>, keeping its version as <see cref="TryLearn"/> does. True when
    /// the caller should route again at once: the map now lists the leader's store for the shard.
    /// </summary>
    public bool TryLearnReplicas(ShardDescriptor routed, ShardDescriptor[]? current, StoreId leader)
    {
        if (current is not { Length: > 0 } || current[0] is not { } next || next.Id != routed.Id || next.Epoch != routed.Epoch
            || next.ConfVersion <= routed.ConfVersion || !next.HasReplicaOn(leader)
            || !next.Range.Start.AsSpan().SequenceEqual(routed.Range.Start) || !next.Range.End.AsSpan().SequenceEqual(routed.Range.End))
        {
            return false;
        }

        var map = _map;
        if (map is null)
        {
            return false;
        }

        int at = Array.IndexOf(map.Shards, map.FindShard(routed.Range.Start));
        var found = map.Shards[at];
        if (!ReferenceEquals(found, routed))
        {
            // Another caller (or a fetch) already replaced it: route by whatever the map has now.
            return found.Id == routed.Id && found.HasReplicaOn(leader);
        }

        var shards = (ShardDescriptor[])map.Shards.Clone();
        shards[at] = next;
        if (ReferenceEquals(Interlocked.CompareExchange(ref _map, new ShardMap(map.Version, shards, map.Stores), map), map))
        {
            Interlocked.Increment(ref _learnedReplicaSets);
        }

        return true;
    }

    /// <summary>How many leading descriptors of <paramref name="current"/> cover exactly <paramref name="routed"/>'s range with newer epochs; 0 if none do.</summary>
    private static int CoveringPrefix(ShardDescriptor routed, ShardDescriptor[]? current)
    {
        if (current is null || current.Length == 0 || !current[0].Range.Start.AsSpan().SequenceEqual(routed.Range.Start))
        {
            return 0;
        }

        var end = routed.Range.End;
        for (int i = 0; i < current.Length; i++)
        {
            var next = current[i];
            if (next.Epoch <= routed.Epoch || i > 0 && !current[i - 1].Range.End.AsSpan().SequenceEqual(next.Range.Start))
            {
                return 0;
            }

            if (next.Range.End.AsSpan().SequenceEqual(end))
            {
                return i + 1;
            }

            if (next.Range.End.Length == 0 || end.Length != 0 && next.Range.End.AsSpan().SequenceCompareTo(end) > 0)
            {
                // Past the routed shard's end: the replica's range grew (a merge), which this map cannot take piecemeal.
                return 0;
            }
        }

        return 0;
    }

    /// <summary>
    /// The store to try next for <paramref name="shard"/>. Leader-only requests go to the cached leader (so a
    /// NotLeader hint, which sets it, is followed on the very next attempt); without one, or when the leader is
    /// suspect, they rotate over the replicas by <paramref name="attempt"/>. Other reads rotate from
    /// <paramref name="spread"/>. Rotation passes over suspect stores and over <paramref name="previous"/> (the
    /// store that just failed) while another replica is left; when every replica is suspect it takes one whose
    /// probe is due, else tries one anyway (the caller backs off between such attempts).
    /// </summary>
    public StoreId ChooseReplica(ShardDescriptor shard, int attempt, StoreId? previous, bool leaderOnly, int spread = 0)
    {
        var replicas = shard.Replicas;
        if (leaderOnly && _leaders.TryGetValue(shard.Id, out var leader) && shard.HasReplicaOn(leader) && Health.TryAdmit(leader))
        {
            return leader;
        }

        int n = replicas.Length;
        int offset = (int)((uint)((leaderOnly ? 0 : spread) + attempt) % (uint)n);
        StoreId? fallback = null;
        for (int i = 0; i < n; i++)
        {
            var store = replicas[(offset + i) % n];
            if (!Health.IsSuspect(store))
            {
                if (store != previous)
                {
                    return store;
                }

                fallback ??= store;
            }
        }

        if (fallback is { } onlyHealthy)
        {
            return onlyHealthy;
        }

        for (int i = 0; i < n; i++)
        {
            var store = replicas[(offset + i) % n];
            if (Health.TryAdmit(store))
            {
                return store;
            }
        }

        return replicas[offset];
    }

    /// <summary>The cached leader of <paramref name="shard"/>, if any; for diagnostics and tests.</summary>
    public StoreId? LeaderOf(ShardId shard) => _leaders.TryGetValue(shard, out var leader) ? leader : null;

    public void NoteLeader(ShardId shard, StoreId store) => _leaders[shard] = store;

    public void ForgetLeader(ShardId shard, StoreId store) =>
        _leaders.TryRemove(new KeyValuePair<ShardId, StoreId>(shard, store));

    /// <summary>Where to send a request for the replica of <paramref name="shard"/> on <paramref name="store"/>: the direct route if known.</summary>
    public ReplicaEndpoint Endpoint(ShardId shard, StoreId store) =>
        _routes.Find(store) is { } service
            ? new ReplicaEndpoint(store, service)
            : new ReplicaEndpoint(store, _replicaGrains.GetOrAdd(new ReplicaId(shard, store), static (id, grains) => grains.GetGrain<IShardReplicaGrain>(id.ToGrainKey()), _grains));

    /// <summary>The store behind <paramref name="endpoint"/> answered (any typed response): it is not suspect.</summary>
    public void Answered(in ReplicaEndpoint endpoint) => Health.Cleared(endpoint.Store);

    /// <summary>
    /// An attempt through <paramref name="endpoint"/> got no answer (timeout, silo gone, connection reset, no live
    /// silo for the store): the store is no longer taken for the shard's leader, its route is dropped and its
    /// gateway quarantined (see <see cref="StoreRoutes.Forget"/>), and it is suspect until it answers.
    /// </summary>
    public void NoAnswer(ShardId shard, in ReplicaEndpoint endpoint)
    {
        ForgetLeader(shard, endpoint.Store);
        ForgetRoute(endpoint, quarantine: true);
        Health.Suspect(endpoint.Store);
    }

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
