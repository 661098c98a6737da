namespace NoKv.Chaos.Cluster;

/// <summary>What the harness asks the system under test about itself: who leads what, and who does not answer.</summary>
public interface IClusterView
{
    /// <summary>
    /// Each shard's leader store (shards without an answering leader are absent), and how many replicas did not answer
    /// their status request. Throws when the question itself could not be asked.
    /// </summary>
    Task<(Dictionary<long, int> Leaders, int Silent)> StatusAsync();
}
