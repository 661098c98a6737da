namespace NoKv.Abstractions.Grains;

/// <summary>Well-known keys of singleton grains.</summary>
public static class ShardMapGrainKeys
{
    /// <summary>The one shard-map grain of a cluster.</summary>
    public const long Cluster = 0;
}
