using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller.Operations;

/// <summary>How operation runners look at a shard's replicas: every store asked at once, silence counted as absence.</summary>
internal static class ReplicaStatuses
{
    /// <summary>Adds to <paramref name="into"/> the status of each replica of <paramref name="shard"/> on <paramref name="stores"/> that answers and exists.</summary>
    public static async Task AskAsync(IReplicaAdmin replicas, ShardId shard, IEnumerable<StoreId> stores, Dictionary<StoreId, ReplicaStatus> into, CancellationToken ct)
    {
        var asks = new List<(StoreId Store, Task<ReplicaStatus> Call)>();
        foreach (var store in stores)
        {
            Task<ReplicaStatus> call;
            try
            {
                call = replicas.StatusAsync(shard, store, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                call = Task.FromException<ReplicaStatus>(e);
            }

            asks.Add((store, call));
        }

        foreach (var (store, call) in asks)
        {
            try
            {
                var status = await call.ConfigureAwait(true);
                if (status.PeerId != 0)
                {
                    into[store] = status;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // No answer: the store is down or slow; it simply does not count.
            }
        }
    }

    /// <summary>The answering leader of the highest term that serves (a descriptor, no halted apply), or null.</summary>
    public static ReplicaStatus? Leader(IEnumerable<ReplicaStatus> statuses)
    {
        ReplicaStatus? leader = null;
        foreach (var status in statuses)
        {
            if (status.Role == ReplicaRole.Leader && status.Descriptor is not null && status.ApplyHalt is null && (leader is null || status.Term > leader.Term))
            {
                leader = status;
            }
        }

        return leader;
    }
}
