namespace NoKv.Grains.Layout;

/// <summary>
/// The bootstrap layout of a cluster: which stores exist and how the key space is cut into shards.
/// Every silo of a cluster must be configured identically (each store records the layout it was
/// bootstrapped with and refuses to start under a different one). The layout seeds the controller's shard map
/// on its first start (docs/controller.md); from then on the controller's committed map is the one served.
/// </summary>
public sealed class NoKvClusterOptions
{
    /// <summary>Store ids of the cluster (at least <see cref="ReplicationFactor"/>, distinct, positive).</summary>
    public int[] Stores { get; set; } = [1, 2, 3];

    /// <summary>Number of shards the key space is cut into at bootstrap.</summary>
    public int InitialShards { get; set; } = 4;

    /// <summary>Replicas per shard, each on a distinct store.</summary>
    public int ReplicationFactor { get; set; } = 3;

    /// <summary>
    /// Optional explicit split keys (UTF-8, ascending, InitialShards - 1 of them). When empty the key space
    /// is cut evenly on the first key byte, which suits binary and hashed keys.
    /// </summary>
    public string[] SplitKeys { get; set; } = [];
}
