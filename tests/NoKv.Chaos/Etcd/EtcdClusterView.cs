using dotnet_etcd;
using Etcdserverpb;
using NoKv.Chaos.Cluster;

namespace NoKv.Chaos.Etcd;

/// <summary>
/// etcd's status, member by member (the maintenance Status call names the member and the leader it follows). etcd is
/// one Raft group: every pseudo-shard of the workload (a key group) has the same leader.
/// </summary>
public sealed class EtcdClusterView : IClusterView, IDisposable
{
    private readonly (int Store, EtcdClient Client)[] _members;
    private readonly long[] _shardIds;

    public EtcdClusterView(ChaosCluster cluster, IReadOnlyList<long> shardIds)
    {
        _members = cluster.Nodes.Select(n => (n.Store, new EtcdClient($"http://{n.Gateway}"))).ToArray();
        _shardIds = shardIds.ToArray();
    }

    public async Task<(Dictionary<long, int> Leaders, int Silent)> StatusAsync()
    {
        var answers = await Task.WhenAll(_members.Select(async m =>
        {
            try
            {
                var status = await m.Client.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(1));
                return (m.Store, Member: status.Header.MemberId, status.Leader, Ok: true);
            }
            catch (Exception)
            {
                return (m.Store, Member: 0UL, Leader: 0UL, Ok: false);
            }
        }));
        var storeOf = answers.Where(a => a.Ok).ToDictionary(a => a.Member, a => a.Store);
        var leaders = new Dictionary<long, int>();
        var agreed = answers.Where(a => a.Ok && a.Leader != 0).GroupBy(a => a.Leader).OrderByDescending(g => g.Count()).FirstOrDefault();
        if (agreed is not null && agreed.Count() * 2 > _members.Length && storeOf.TryGetValue(agreed.Key, out int leader))
        {
            foreach (long shard in _shardIds)
            {
                leaders[shard] = leader;
            }
        }

        return (leaders, answers.Count(a => !a.Ok));
    }

    public void Dispose()
    {
        foreach (var (_, client) in _members)
        {
            client.Dispose();
        }
    }
}
