using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>The controller group's replicas as the test client sees them.</summary>
public static class ControllerGroupStatus
{
    /// <summary>
    /// One round of status calls to the controller replicas on <paramref name="stores"/> (1 s each; a dead store's
    /// replica does not answer): the status of the replica that leads with a majority of them naming it in its term,
    /// or null.
    /// </summary>
    public static async Task<ReplicaStatus?> MajorityLeaderAsync(TestNoKvCluster cluster, IReadOnlyList<StoreId> stores)
    {
        var statuses = new List<ReplicaStatus>();
        foreach (var store in stores)
        {
            try
            {
                var replica = cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(new ReplicaId(SystemShards.Controller, store).ToGrainKey());
                statuses.Add(await replica.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(1)));
            }
            catch (Exception)
            {
                // A dead store's replica does not answer.
            }
        }

        var leader = statuses.FirstOrDefault(s => s.Role == ReplicaRole.Leader);
        return leader is not null && statuses.Count(s => s.Leader == leader.Replica.Store && s.Term == leader.Term) * 2 > stores.Count ? leader : null;
    }
}
