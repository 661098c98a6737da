using System.Text;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Sharding;

namespace NoKv.Grains.Layout;

/// <summary>
/// The bootstrap shard map, computed deterministically from <see cref="NoKvClusterOptions"/> so every silo
/// derives the same map without talking to anyone: shard i (ids from 1) covers the i-th key range and is
/// replicated on stores i, i+1, ... (mod the store count), spreading replicas and leaders evenly.
/// Immutable singleton.
/// </summary>
public sealed class ClusterLayout
{
    public ClusterLayout(IOptions<NoKvClusterOptions> options)
    {
        var o = options.Value;
        var stores = o.Stores.Order().Select(s => new StoreId(s)).ToArray();
        var bounds = SplitPoints(o);
        var shards = new ShardDescriptor[o.InitialShards];
        for (int i = 0; i < shards.Length; i++)
        {
            var id = new ShardId(i + 1);
            var peers = new PeerDescriptor[o.ReplicationFactor];
            for (int r = 0; r < peers.Length; r++)
            {
                peers[r] = new PeerDescriptor(BootstrapPeerId(id, r), stores[(i + r) % stores.Length], PeerRole.Voter);
            }

            var range = new KeyRange(i == 0 ? [] : bounds[i - 1], i == shards.Length - 1 ? [] : bounds[i]);
            shards[i] = new ShardDescriptor(id, range, epoch: 1, confVersion: 1, peers);
        }

        Stores = stores;
        ControllerBootstrap = ControllerDescriptor(stores, o.InitialShards);
        BootstrapMap = new ShardMap(1, shards, stores.Select(s => new StoreDescriptor(s, null, false)).ToArray());
        Fingerprint = $"{FingerprintVersion};stores={string.Join(',', o.Stores.Order())};shards={o.InitialShards};rf={o.ReplicationFactor};splits={string.Join(',', bounds.Select(Convert.ToHexString))}";
    }

    /// <summary>
    /// The layout format of <see cref="Fingerprint"/>. v1 stores used store ids as Raft node ids and kept no shard
    /// descriptor in the engine; v2 stores use peer ids and persist each replica's descriptor; v3 stores keep user
    /// data as MVCC rows (docs/format-data-rows.md) where v2 kept one plain row per key.
    /// </summary>
    public const string FingerprintVersion = "v3";

    /// <summary>Peer ids of bootstrap replicas: shard id in the high bits, replica slot (from 1) in the low 8.
    /// Peers added later get ids from the controller's allocator, which starts above every bootstrap id.</summary>
    public static ulong BootstrapPeerId(ShardId shard, int slot) => checked(((ulong)shard.Value << 8) + (uint)(slot + 1));

    public IReadOnlyList<StoreId> Stores { get; }

    /// <summary>
    /// The controller group as created at bootstrap: voters on the first 3 stores of the layout (5 when there are 5
    /// or more; every store when there are fewer than 3), so it survives the same failures as a shard (or two at once).
    /// Like any replica descriptor it is only used to create a replica that has never been written.
    /// </summary>
    public ShardDescriptor ControllerBootstrap { get; }

    /// <summary>The bootstrap descriptor of group <paramref name="shard"/> (a user shard or a system group), or null.</summary>
    public ShardDescriptor? BootstrapDescriptor(ShardId shard) =>
        shard == SystemShards.Controller ? ControllerBootstrap : BootstrapMap.TryGetShard(shard);

    /// <summary>Number of controller voters for a cluster of <paramref name="storeCount"/> stores.</summary>
    public static int ControllerReplicaCount(int storeCount) => storeCount >= 5 ? 5 : Math.Min(storeCount, 3);

    /// <summary>The map as created at bootstrap (version 1, epochs 1); store liveness unknown.</summary>
    public ShardMap BootstrapMap { get; }

    /// <summary>A canonical text form of the layout, persisted by each store to detect configuration drift.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// Voters on the first 3 (or 5) stores. The first voter is the preferred leader (leader balance); it continues the
    /// rotation of the shards' preferred leaders (shard i prefers store i mod n), so the controller's leader does not
    /// add to the store that already leads the most shards.
    /// </summary>
    private static ShardDescriptor ControllerDescriptor(StoreId[] stores, int shardCount)
    {
        int count = ControllerReplicaCount(stores.Length);
        int first = shardCount % count;
        var peers = new PeerDescriptor[count];
        for (int r = 0; r < peers.Length; r++)
        {
            peers[r] = new PeerDescriptor(BootstrapPeerId(SystemShards.Controller, r), stores[(first + r) % count], PeerRole.Voter);
        }

        return new ShardDescriptor(SystemShards.Controller, new KeyRange([], []), epoch: 1, confVersion: 1, peers);
    }

    private static byte[][] SplitPoints(NoKvClusterOptions o)
    {
        if (o.SplitKeys.Length != 0)
        {
            return o.SplitKeys.Select(Encoding.UTF8.GetBytes).ToArray();
        }

        var points = new byte[o.InitialShards - 1][];
        for (int i = 1; i < o.InitialShards; i++)
        {
            points[i - 1] = [(byte)(i * 256 / o.InitialShards)];
        }

        return points;
    }
}
