namespace NoKv.Replica.Tests.Simulation;

/// <summary>Faults and workload of one replica simulation run.</summary>
internal sealed record SimOptions
{
    public int Nodes { get; init; } = 3;

    /// <summary>Stores holding the bootstrap shard (the first ones); the others start empty and receive moved replicas. 0: every store.</summary>
    public int Replicas { get; init; }

    /// <summary>Replica moves (re-replications when the source is down) the controller's move runner makes after the splits and merges.</summary>
    public int Moves { get; init; }

    /// <summary>Merges the controller's merge runner makes (co-locating replicas first), mixed with the moves.</summary>
    public int ControllerMerges { get; init; }

    /// <summary>Splits the controller's own split operation makes (by size or at a client key), mixed with its moves and merges.</summary>
    public int ControllerSplits { get; init; }

    /// <summary>Whether the controller's operation logic runs at all (moves, merges or splits asked for).</summary>
    public bool UsesController => Moves + ControllerMerges + ControllerSplits > 0;

    /// <summary>Run the controller group (system shard 0, rows under its own engine prefix) instead of a user shard.</summary>
    public bool ControllerGroup { get; init; }

    /// <summary>
    /// With <see cref="ControllerGroup"/>: stores holding a controller voter killed for good one after another, each
    /// once the group is whole again; the controller's operation loop must re-replicate each voter (<see cref="SimControllerRepair"/>).
    /// </summary>
    public int ControllerLosses { get; init; }

    /// <summary>
    /// With <see cref="ControllerGroup"/> on six stores: the controller's operation loop grows the group to five voters
    /// while a store holding one of its replicas is killed, destroys that store's removed peer when it returns, and
    /// shrinks the group back to three when two stores are decommissioned (<see cref="SimControllerGrowth"/>).
    /// </summary>
    public bool ControllerGrowth { get; init; }

    /// <summary>Timestamp oracle front-ends (each a separate <c>TimestampOracle</c>, like one per silo).</summary>
    public int TimestampOracles { get; init; }

    /// <summary>Closed-loop callers of those oracles.</summary>
    public int TimestampCallers { get; init; }

    public int Clients { get; init; } = 4;

    /// <summary>Closed-loop transactional snapshot readers of the clients' keys (<see cref="SimSnapshotReader"/>).</summary>
    public int SnapshotReaders { get; init; }

    public int KeysPerClient { get; init; } = 3;

    /// <summary>Closed-loop transaction clients moving money between the bank's accounts (<see cref="SimTxnClient"/>).</summary>
    public int TxnClients { get; init; }

    /// <summary>Virtual milliseconds of workload with faults; a quiet, healed period follows for the final checks.</summary>
    public long DurationMs { get; init; } = 40_000;

    public double DropRate { get; init; } = 0.05;

    public double DuplicateRate { get; init; } = 0.02;

    public int MaxDelayMs { get; init; } = 25;

    /// <summary>Mean virtual milliseconds between injected faults (crash, isolation, pause).</summary>
    public int MeanFaultIntervalMs { get; init; } = 4_000;

    /// <summary>
    /// Whether pauses are among the faults: a store stopped for 0.5-4.5 s whose clock runs on while its ticks and
    /// messages wait (the case leader leases must survive).
    /// </summary>
    public bool Pauses { get; init; } = true;

    /// <summary>
    /// Whether half the crashes and isolations pick a store that leads a hibernating group (when one does): the
    /// hibernation scenario must hit sleeping leaders on its few CI seeds, not only by chance.
    /// </summary>
    public bool AimAtHibernatingLeaders { get; init; }

    /// <summary>Log entries between compactions: small, so followers that fall behind need snapshots.</summary>
    public long SnapshotEntries { get; init; } = 64;

    /// <summary>Splits the splitter makes during the faulty period (0: none; the map stays one shard).</summary>
    public int Splits { get; init; }

    /// <summary>Merges of neighbouring shards the merger makes after the splits (some prepares are rolled back instead).</summary>
    public int Merges { get; init; }

    /// <summary>Mean virtual milliseconds between splits (and between merges).</summary>
    public int MeanSplitIntervalMs { get; init; } = 3_000;

    /// <summary>Longest pause of a client between operations (virtual ms): long pauses leave groups idle, so they hibernate.</summary>
    public int ClientPauseMs { get; init; } = 20;

    /// <summary>
    /// The controller group (the timestamp oracle) is unavailable for stretches of 3-8 s during the faulty period, up
    /// 1.5-4 s between them: every oracle call fails meanwhile, for replicas and snapshot readers alike.
    /// </summary>
    public bool OracleOutages { get; init; }

    /// <summary>Idle ticks before a leader hibernates its group (ReplicaOptions.HibernateAfterTicks).</summary>
    public int HibernateAfterTicks { get; init; } = 20;
}
