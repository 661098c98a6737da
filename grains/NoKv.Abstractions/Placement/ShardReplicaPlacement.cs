using Orleans.Runtime;

namespace NoKv.Abstractions.Placement;

/// <summary>
/// Placement strategy for replica grains: activate only on the silo whose store the grain key names, and
/// fail with StoreUnavailable when that silo is not alive. Data only; NoKv.Grains' ShardReplicaPlacementDirector
/// holds the behaviour.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("nokv.ShardReplicaPlacement")]
public sealed class ShardReplicaPlacement : PlacementStrategy
{
    public static ShardReplicaPlacement Instance { get; } = new();

    /// <summary>
    /// False: a replica's silo follows from its key (the silo hosting its store), so the grain directory adds nothing
    /// but a failure mode. With the directory, when any silo dies Orleans deactivates every activation whose directory
    /// entry that silo held, wherever it runs: healthy replicas of shards the dead silo did not lead lost their Raft
    /// state in memory and their leadership several seconds after the fault (docs/chaos.md, failover). Without it, the
    /// placement director addresses each replica's silo directly and that silo's catalog keeps one activation per replica.
    /// </summary>
    public override bool IsUsingGrainDirectory => false;
}
