using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Grains.Controller;

/// <summary>
/// Reaches user shards' replicas for controller operations with grain calls, each bounded by a timeout: a replica on a
/// dead silo must cost the operation loop one attempt, not Orleans' response timeout.
/// </summary>
public sealed class GrainReplicaAdmin : IReplicaAdmin
{
    private readonly IGrainFactory _grains;
    private readonly TimeSpan _callTimeout;
    private readonly TimeSpan _changeTimeout;

    /// <param name="callTimeout">Bound of a status, create, transfer or destroy call.</param>
    /// <param name="changeTimeout">Bound of a membership change (it waits for the commit).</param>
    public GrainReplicaAdmin(IGrainFactory grains, TimeSpan callTimeout, TimeSpan changeTimeout)
    {
        _grains = grains;
        _callTimeout = callTimeout;
        _changeTimeout = changeTimeout;
    }

    public long WallClockMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public Task<ReplicaStatus> StatusAsync(ShardId shard, StoreId store, CancellationToken cancellationToken) =>
        Replica(shard, store).GetStatusAsync().WaitAsync(_callTimeout, cancellationToken);

    public Task<ReplicaAdminResult> CreateAsync(StoreId store, ShardDescriptor shard, ulong peerId, CancellationToken cancellationToken) =>
        Replica(shard.Id, store).CreateReplicaAsync(shard, peerId).WaitAsync(_changeTimeout, cancellationToken);

    public Task<WriteResponse> ChangeAsync(StoreId leader, ShardId shard, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken) =>
        Replica(shard, leader).ChangeMembershipAsync(kind, peer, cancellationToken).WaitAsync(_changeTimeout, cancellationToken);

    public Task<WriteResponse> TransferLeaderAsync(StoreId leader, ShardId shard, StoreId to, CancellationToken cancellationToken) =>
        Replica(shard, leader).TransferLeaderAsync(to).WaitAsync(_callTimeout, cancellationToken);

    public Task<WriteResponse> MergeAsync(StoreId store, MergeShardRequest request, CancellationToken cancellationToken) =>
        Replica(request.Shard, store).MergeAsync(request).WaitAsync(_changeTimeout, cancellationToken);

    public Task<ReplicaAdminResult> DestroyAsync(StoreId store, ShardId shard, ulong peerId, CancellationToken cancellationToken) =>
        Replica(shard, store).DestroyReplicaAsync(peerId).WaitAsync(_changeTimeout, cancellationToken);

    public Task<ReplicaAdminResult> DestroyOrphanAsync(OrphanReplica orphan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orphan);
        var replica = Replica(orphan.Shard, orphan.Store);
        var destroy = orphan.MergedAway
            ? replica.DestroyMergedAwayOrphanAsync(orphan.PeerId, orphan.MapEpoch)
            : replica.DestroyOrphanAsync(orphan.PeerId, orphan.MapConfVersion);
        return destroy.WaitAsync(_changeTimeout, cancellationToken);
    }

    private IShardReplicaGrain Replica(ShardId shard, StoreId store) => _grains.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, store).ToGrainKey());
}
