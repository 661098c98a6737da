using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Grains.Controller;

/// <summary>Reaches user shards' replicas with grain calls, for controller operations; each call bounded by a timeout.</summary>
public sealed class GrainShardAccess : IShardAccess
{
    private readonly IGrainFactory _grains;
    private readonly TimeSpan _timeout;

    public GrainShardAccess(IGrainFactory grains, TimeSpan timeout)
    {
        _grains = grains;
        _timeout = timeout;
    }

    public long NowMs => Environment.TickCount64;

    public long WallClockMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public Task DelayAsync(int milliseconds, CancellationToken cancellationToken) => Task.Delay(milliseconds, cancellationToken);

    public Task<WriteResponse> SplitAsync(StoreId store, SplitShardRequest request, CancellationToken cancellationToken) =>
        Replica(request.Shard, store).SplitAsync(request).WaitAsync(_timeout, cancellationToken);

    public async Task<ShardDescriptor?> DescriptorAsync(StoreId store, ShardId shard, CancellationToken cancellationToken) =>
        (await Replica(shard, store).GetStatusAsync().WaitAsync(_timeout, cancellationToken).ConfigureAwait(true)).Descriptor;

    public Task<byte[]?> MiddleKeyAsync(StoreId store, ShardId shard, CancellationToken cancellationToken) =>
        Replica(shard, store).GetMiddleKeyAsync().WaitAsync(_timeout, cancellationToken);

    private IShardReplicaGrain Replica(ShardId shard, StoreId store) =>
        _grains.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, store).ToGrainKey());
}
