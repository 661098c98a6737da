using NoKv.Client.Admin;

namespace NoKv.Chaos.Cluster;

/// <summary>NoKV's cluster status through the admin API (every replica's status, gathered by a silo).</summary>
public sealed class NoKvClusterView(INoKvAdmin admin) : IClusterView
{
    public async Task<(Dictionary<long, int> Leaders, int Silent)> StatusAsync()
    {
        var status = await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2));
        return (ChaosCluster.LeadersOf(status), status.Replicas.Count(r => r.Status is null));
    }
}
