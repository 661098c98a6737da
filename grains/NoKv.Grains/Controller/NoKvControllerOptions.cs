namespace NoKv.Grains.Controller;

/// <summary>Timing of the controller's logic in each silo (docs/controller.md). All silos should use the same values.</summary>
public sealed class NoKvControllerOptions
{
    /// <summary>How long one call to one controller replica may take before the next replica is tried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a controller read or write keeps retrying (across elections) before it fails.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Period of each store's heartbeat to the controller.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A store not heard from for this long is marked down (a committed transition).</summary>
    public TimeSpan StoreDownAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a silo serves the shard map from its cache before reading it from the controller again.</summary>
    public TimeSpan MapCacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Period of the operation loop (moves, re-replication, decommission, leadership transfers).</summary>
    public TimeSpan OperationInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>At most this many operations run at once (re-replicating a dead store's shards included).</summary>
    public int MaxOperations { get; set; } = 8;

    /// <summary>How long an operation step may make no progress before it rolls back or gives up (see ReplicaMoveOptions.StepTimeout).</summary>
    public TimeSpan OperationStepTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a leadership transfer may take before it is abandoned.</summary>
    public TimeSpan LeaderTransferTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the balancer plans (leader transfers, replica moves, automatic splits; docs/controller.md "Balancing").</summary>
    public TimeSpan BalanceInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Spread preferred leaders evenly over the up stores.</summary>
    public bool LeaderBalance { get; set; } = true;

    /// <summary>Spread replicas evenly over the up stores (a new store receives replicas).</summary>
    public bool ReplicaBalance { get; set; } = true;

    /// <summary>Split shards by size and by sustained load.</summary>
    public bool AutoSplit { get; set; } = true;

    /// <summary>A store may be preferred by this many more shards than another before a leader moves (at least 1).</summary>
    public int LeaderTolerance { get; set; } = 1;

    /// <summary>A store may hold this many more replicas than another before a replica moves (at least 1).</summary>
    public int ReplicaTolerance { get; set; } = 1;

    /// <summary>Also even out the bytes stores hold once every shard's size is known (counts may then differ by up to <see cref="ReplicaTolerance"/> + <see cref="SizeCountSlack"/>).</summary>
    public bool ReplicaSizeBalance { get; set; } = true;

    /// <summary>A size move only when the fullest up store holds more than this many times the emptiest's bytes (above 1).</summary>
    public double ReplicaSizeRatio { get; set; } = 1.25;

    /// <summary>A size move only when the fullest up store holds at least this many bytes more than the emptiest.</summary>
    public long ReplicaSizeMinBytes { get; set; } = 64L << 20;

    /// <summary>Extra replicas a store may hold over another for size and load balancing's sake.</summary>
    public int SizeCountSlack { get; set; } = 2;

    /// <summary>Also even out the summed request rates of the replicas stores hold (replica moves of hot shards), once every shard's rate is known.</summary>
    public bool ReplicaLoadBalance { get; set; } = true;

    /// <summary>A load move only when the busiest up store's replicas serve more than this many times the idlest's (above 1).</summary>
    public double ReplicaLoadRatio { get; set; } = 1.5;

    /// <summary>A load move only when the busiest up store's replicas serve at least this many more requests per second than the idlest's (and the cluster this many in all).</summary>
    public double ReplicaLoadMinRequestsPerSecond { get; set; } = 2_000;

    /// <summary>Leader transfers the balancer keeps in flight.</summary>
    public int MaxBalanceTransfers { get; set; } = 2;

    /// <summary>Replica moves the balancer keeps in flight.</summary>
    public int MaxBalanceMoves { get; set; } = 1;

    /// <summary>Automatic splits in flight.</summary>
    public int MaxAutoSplits { get; set; } = 1;

    /// <summary>A shard the balancer acted on is left alone by it for this long.</summary>
    public TimeSpan BalanceCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Split a shard whose data reaches this many bytes (engine estimate).</summary>
    public long SplitBytes { get; set; } = 96L << 20;

    /// <summary>Split a shard whose leader serves this many reads and writes per second for <see cref="SplitLoadWindow"/> (0: never by load).</summary>
    public double SplitRequestsPerSecond { get; set; } = 5_000;

    /// <summary>How long a shard's request rate must stay above <see cref="SplitRequestsPerSecond"/>.</summary>
    public TimeSpan SplitLoadWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Merge adjacent shards that stay small and cold together (docs/controller.md, "Automatic merge").</summary>
    public bool AutoMerge { get; set; } = true;

    /// <summary>Merge two neighbours only if their data together is at most this many bytes (at most half of <see cref="SplitBytes"/>).</summary>
    public long MergeBytes { get; set; } = 24L << 20;

    /// <summary>Merge two neighbours only if they serve at most this many reads and writes per second together (at most half of <see cref="SplitRequestsPerSecond"/>).</summary>
    public double MergeRequestsPerSecond { get; set; } = 100;

    /// <summary>How long both neighbours must stay under the merge limits before they merge.</summary>
    public TimeSpan MergeColdWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Also even out the requests per second the stores' preferred leaders serve, once every shard's rate is known (preference counts may then differ by up to <see cref="LeaderTolerance"/> + <see cref="LoadCountSlack"/>).</summary>
    public bool LeaderLoadBalance { get; set; } = true;

    /// <summary>A load transfer only when the busiest up store's shards serve more than this many times the idlest's (above 1).</summary>
    public double LeaderLoadRatio { get; set; } = 1.5;

    /// <summary>A load transfer only when the busiest up store's shards serve at least this many more requests per second than the idlest's.</summary>
    public double LeaderLoadMinRequestsPerSecond { get; set; } = 500;

    /// <summary>Extra preferred leaders a store may have over another for load balancing's sake.</summary>
    public int LoadCountSlack { get; set; } = 2;

    /// <summary>Automatic merges in flight at once.</summary>
    public int MaxAutoMerges { get; set; } = 1;

    /// <summary>The balancer's settings as the Orleans-free scheduler takes them.</summary>
    public NoKv.Replica.Controller.Balancing.BalancerOptions ToBalancerOptions() => new()
    {
        LeaderBalance = LeaderBalance,
        ReplicaBalance = ReplicaBalance,
        AutoSplit = AutoSplit,
        LeaderTolerance = LeaderTolerance,
        ReplicaTolerance = ReplicaTolerance,
        ReplicaSizeBalance = ReplicaSizeBalance,
        ReplicaSizeRatio = ReplicaSizeRatio,
        ReplicaSizeMinBytes = ReplicaSizeMinBytes,
        SizeCountSlack = SizeCountSlack,
        ReplicaLoadBalance = ReplicaLoadBalance,
        ReplicaLoadRatio = ReplicaLoadRatio,
        ReplicaLoadMinRequestsPerSecond = ReplicaLoadMinRequestsPerSecond,
        LeaderLoadBalance = LeaderLoadBalance,
        LeaderLoadRatio = LeaderLoadRatio,
        LeaderLoadMinRequestsPerSecond = LeaderLoadMinRequestsPerSecond,
        LoadCountSlack = LoadCountSlack,
        MaxLeaderTransfers = MaxBalanceTransfers,
        MaxReplicaMoves = MaxBalanceMoves,
        MaxSplits = MaxAutoSplits,
        ShardCooldown = BalanceCooldown,
        SplitBytes = SplitBytes,
        SplitRequestsPerSecond = SplitRequestsPerSecond,
        SplitLoadWindow = SplitLoadWindow,
        AutoMerge = AutoMerge,
        MergeBytes = MergeBytes,
        MergeRequestsPerSecond = MergeRequestsPerSecond,
        MergeColdWindow = MergeColdWindow,
        MaxMerges = MaxAutoMerges,
    };
}
