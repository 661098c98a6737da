using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// Runs a leadership transfer (<see cref="OperationKind.TransferLeader"/>): one step, repeated until the target
/// store's replica leads or the transfer timed out. The replica commits the target as the shard's preferred leader
/// before handing over (CommandType 13), so the transfer lasts; the runner then mirrors the reordered membership
/// into the map. Asking a leader to transfer is idempotent and the result is read from the replicas, so a crash
/// anywhere just asks again. The operation row is deleted when done.
/// </summary>
public sealed class LeaderTransferRunner
{
    private readonly IOperationRows _rows;
    private readonly IReplicaAdmin _replicas;
    private readonly ReplicaMoveOptions _options;

    public LeaderTransferRunner(IOperationRows rows, IReplicaAdmin replicas, ReplicaMoveOptions? options = null)
    {
        _rows = rows;
        _replicas = replicas;
        _options = options ?? new ReplicaMoveOptions();
    }

    public async Task<OperationProgress> RunAsync(long id, CancellationToken cancellationToken = default)
    {
        var (op, row) = await _rows.ReadOperationAsync(id, cancellationToken).ConfigureAwait(true);
        if (op is null || row is null)
        {
            return new OperationProgress(true, 0, null);
        }

        if (op.Kind != OperationKind.TransferLeader || op.To is not { } to)
        {
            throw new InvalidOperationException($"operation {op.Id} ({op.Kind}) is not a leadership transfer");
        }

        var (map, _) = await _rows.ReadMapAsync(cancellationToken).ConfigureAwait(true);
        var shard = Array.Find(map.Shards, s => s.Id == op.Shard);
        ReplicaStatus? leader = null;
        foreach (var peer in shard?.Peers ?? [])
        {
            try
            {
                var status = await _replicas.StatusAsync(op.Shard, peer.Store, cancellationToken).ConfigureAwait(true);
                if (status.Role == ReplicaRole.Leader && status.Descriptor is not null && (leader is null || status.Term > leader.Term))
                {
                    leader = status;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // No answer from that store.
            }
        }

        bool done = leader is not null && leader.Replica.Store == to;
        bool impossible = leader?.Descriptor is { } committed && committed.PeerOn(to) is not { Role: PeerRole.Voter };
        bool timedOut = _replicas.WallClockMs - op.CreatedUnixMs > _options.TransferTimeout.TotalMilliseconds;
        if (done || impossible || timedOut)
        {
            // The transfer committed the target as the shard's preferred leader (a reordered descriptor with a new
            // conf version): the map mirrors it, so clients and the balancer see the preference.
            if (leader?.Descriptor is { } descriptor && !await MapMirror.MirrorAsync(_rows, descriptor, cancellationToken).ConfigureAwait(true))
            {
                return new OperationProgress(false, 0, "the map changed while recording the preferred leader");
            }

            bool deleted = await _rows.SwapOperationAsync(op.Id, row, null, cancellationToken).ConfigureAwait(true);
            return new OperationProgress(deleted, deleted ? 1 : 0, deleted ? null : "the operation row changed meanwhile");
        }

        if (leader is null)
        {
            return new OperationProgress(false, 0, $"shard {op.Shard} has no leader");
        }

        try
        {
            await _replicas.TransferLeaderAsync(leader.Replica.Store, op.Shard, to, cancellationToken).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new OperationProgress(false, 0, $"store {leader.Replica.Store} did not answer: {e.Message}");
        }

        return new OperationProgress(false, 0, $"leadership is moving to store {to}");
    }
}
