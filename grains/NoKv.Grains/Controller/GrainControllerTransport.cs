using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller;

namespace NoKv.Grains.Controller;

/// <summary>
/// Reaches the controller group's replicas with grain calls. Must be used from a grain's turns (or any one logical
/// thread): it keeps one grain reference per replica.
/// <para>Every call stops waiting when its token is cancelled: Orleans treats a call's token as a cooperative signal
/// to the callee only, so a call addressed to a silo that just died would otherwise be awaited until the runtime's
/// response timeout (30 s), far beyond the group client's attempt timeout (seen in CI: a timestamp request stuck
/// behind a killed controller leader).</para>
/// </summary>
public sealed class GrainControllerTransport : IControllerTransport
{
    private readonly IGrainFactory _grains;
    private readonly Dictionary<StoreId, IShardReplicaGrain> _replicas = new();
    private readonly Func<IReadOnlyCollection<StoreId>>? _liveStores;

    /// <param name="liveStores">The stores of the active silos (a silo's <c>StoreDirectory</c>); null outside a silo,
    /// where the group is found from its known members only.</param>
    public GrainControllerTransport(IGrainFactory grains, Func<IReadOnlyCollection<StoreId>>? liveStores = null)
    {
        _grains = grains;
        _liveStores = liveStores;
    }

    public long NowMs => Environment.TickCount64;

    public long WallClockMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request, CancellationToken cancellationToken) =>
        Replica(store).WriteAsync(request, cancellationToken).WaitAsync(cancellationToken);

    public Task<ReadResponse> ReadAsync(StoreId store, ReadRequest request, CancellationToken cancellationToken) =>
        Replica(store).GetAsync(request, cancellationToken).WaitAsync(cancellationToken);

    public Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request, CancellationToken cancellationToken) =>
        Replica(store).ScanAsync(request, cancellationToken).WaitAsync(cancellationToken);

    public Task<TimestampResponse> TimestampsAsync(StoreId store, int count, CancellationToken cancellationToken) =>
        Replica(store).TimestampsAsync(count, cancellationToken).WaitAsync(cancellationToken);

    public Task DelayAsync(int milliseconds, CancellationToken cancellationToken) => Task.Delay(milliseconds, cancellationToken);

    public Task<ReplicaStatus> StatusAsync(StoreId store, CancellationToken cancellationToken) =>
        Replica(store).GetStatusAsync().WaitAsync(cancellationToken);

    public IReadOnlyCollection<StoreId> LiveStores() => _liveStores?.Invoke() ?? [];

    private IShardReplicaGrain Replica(StoreId store)
    {
        if (!_replicas.TryGetValue(store, out var replica))
        {
            replica = _grains.GetGrain<IShardReplicaGrain>(new ReplicaId(SystemShards.Controller, store).ToGrainKey());
            _replicas[store] = replica;
        }

        return replica;
    }
}
