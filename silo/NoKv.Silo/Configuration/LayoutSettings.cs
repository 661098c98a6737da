namespace NoKv.Silo.Configuration;

/// <summary>
/// The cluster layout as configured (see NoKvClusterOptions for meaning). Arrays default to empty because
/// configuration binding appends to an existing array: a default of [1, 2, 3] would turn a configured
/// [4, 5, 6] into [1, 2, 3, 4, 5, 6]. Empty Stores means the default three stores 1, 2, 3.
/// </summary>
public sealed class LayoutSettings
{
    public int[] Stores { get; set; } = [];

    public int InitialShards { get; set; } = 4;

    public int ReplicationFactor { get; set; } = 3;

    public string[] SplitKeys { get; set; } = [];

    public int[] EffectiveStores => Stores.Length == 0 ? [1, 2, 3] : Stores;
}
