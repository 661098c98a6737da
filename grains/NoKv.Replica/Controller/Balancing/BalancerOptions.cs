namespace NoKv.Replica.Controller.Balancing;

/// <summary>
/// What the controller's balancer may do and how eagerly (docs/controller.md, "Balancing" and "Automatic split").
/// The tolerances and the cooldown are the hysteresis that keeps it from flapping; the in-flight limits are its
/// rate limit. Validated by <see cref="Validate"/>.
/// </summary>
public sealed class BalancerOptions
{
    /// <summary>Spread preferred leaders evenly over the up stores (committed leader transfers).</summary>
    public bool LeaderBalance { get; init; } = true;

    /// <summary>Spread replicas evenly over the up stores (replica moves), so a new store gets replicas.</summary>
    public bool ReplicaBalance { get; init; } = true;

    /// <summary>Split shards above <see cref="SplitBytes"/> or <see cref="SplitRequestsPerSecond"/>.</summary>
    public bool AutoSplit { get; init; } = true;

    /// <summary>
    /// How many more preferred leaders a store may have than another before one moves (at least 1: a move between
    /// stores one apart would only swap them, and the next round would swap them back).
    /// </summary>
    public int LeaderTolerance { get; init; } = 1;

    /// <summary>How many more replicas a store may hold than another before one moves (at least 1, as above).</summary>
    public int ReplicaTolerance { get; init; } = 1;

    /// <summary>
    /// Also even out the bytes the up stores hold (replica moves from the store holding the most bytes to the one
    /// holding the fewest), once every shard's leader has reported its size. Counts may then differ by up to
    /// <see cref="ReplicaTolerance"/> + <see cref="SizeCountSlack"/>, the room a size move needs: with equal counts,
    /// any move makes them differ by 2.
    /// </summary>
    public bool ReplicaSizeBalance { get; init; } = true;

    /// <summary>A size move only when the fullest up store holds more than this many times the emptiest's bytes (above 1).</summary>
    public double ReplicaSizeRatio { get; init; } = 1.25;

    /// <summary>A size move only when the fullest up store holds at least this many bytes more than the emptiest.</summary>
    public long ReplicaSizeMinBytes { get; init; } = 64L << 20;

    /// <summary>How many more replicas than <see cref="ReplicaTolerance"/> a store may hold than another for size and load balancing's sake.</summary>
    public int SizeCountSlack { get; init; } = 2;

    /// <summary>
    /// Also even out the summed request rates of the replicas the up stores hold (replica moves of hot shards from the
    /// busiest store to the idlest), once every shard's leader has reported its rate and the cluster serves at least
    /// <see cref="ReplicaLoadMinRequestsPerSecond"/>. Counts may then differ by up to <see cref="ReplicaTolerance"/> +
    /// <see cref="SizeCountSlack"/>.
    /// </summary>
    public bool ReplicaLoadBalance { get; init; } = true;

    /// <summary>A load move only when the busiest up store's replicas serve more than this many times the idlest's (above 1).</summary>
    public double ReplicaLoadRatio { get; init; } = 1.5;

    /// <summary>
    /// A load move only when the busiest up store's replicas serve at least this many more requests per second than
    /// the idlest's, and the whole cluster at least this many: below it, rates are noise and a copy costs more than it
    /// could gain.
    /// </summary>
    public double ReplicaLoadMinRequestsPerSecond { get; init; } = 2_000;

    /// <summary>
    /// Also even out the requests the up stores' preferred leaders serve (leader transfers from the store whose shards
    /// serve the most requests per second to one serving the fewest), once every shard's leader has reported its rate.
    /// Preference counts may then differ by up to <see cref="LeaderTolerance"/> + <see cref="LoadCountSlack"/>. This is
    /// how a shard hot on one key (which no split can cool) gets a store of its own to lead from.
    /// </summary>
    public bool LeaderLoadBalance { get; init; } = true;

    /// <summary>A load transfer only when the busiest up store's shards serve more than this many times the idlest's (above 1).</summary>
    public double LeaderLoadRatio { get; init; } = 1.5;

    /// <summary>A load transfer only when the busiest up store's shards serve at least this many more requests per second than the idlest's.</summary>
    public double LeaderLoadMinRequestsPerSecond { get; init; } = 500;

    /// <summary>How many more preferred leaders than <see cref="LeaderTolerance"/> a store may have than another for load balancing's sake.</summary>
    public int LoadCountSlack { get; init; } = 2;

    /// <summary>Leader transfers the balancer keeps in flight at once.</summary>
    public int MaxLeaderTransfers { get; init; } = 2;

    /// <summary>Replica moves the balancer keeps in flight at once (each copies a shard).</summary>
    public int MaxReplicaMoves { get; init; } = 1;

    /// <summary>Splits in flight at once.</summary>
    public int MaxSplits { get; init; } = 1;

    /// <summary>A shard the balancer moved, transferred or split is left alone by it for this long.</summary>
    public TimeSpan ShardCooldown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A shard whose data is estimated at or above this many bytes is split at its middle key by size.</summary>
    public long SplitBytes { get; init; } = 96L << 20;

    /// <summary>
    /// A shard whose leader serves at least this many reads and writes per second for <see cref="SplitLoadWindow"/>
    /// is split (0 or less: never by load).
    /// </summary>
    public double SplitRequestsPerSecond { get; init; } = 5_000;

    /// <summary>How long a shard's request rate must stay above <see cref="SplitRequestsPerSecond"/> before it splits.</summary>
    public TimeSpan SplitLoadWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Merge adjacent shards that stayed small and cold together for <see cref="MergeColdWindow"/>.</summary>
    public bool AutoMerge { get; init; } = true;

    /// <summary>
    /// Two neighbours merge only if their data together is at most this many bytes. At most half of
    /// <see cref="SplitBytes"/>, so the merged shard is far from splitting again, and the halves of a split (about half
    /// of <see cref="SplitBytes"/> each) never qualify.
    /// </summary>
    public long MergeBytes { get; init; } = 24L << 20;

    /// <summary>
    /// Two neighbours merge only if they serve at most this many reads and writes per second together. At most half of
    /// <see cref="SplitRequestsPerSecond"/> when splitting by load is on, for the same reason.
    /// </summary>
    public double MergeRequestsPerSecond { get; init; } = 100;

    /// <summary>How long both neighbours must stay under the merge limits, at their current epochs (a split starts it over).</summary>
    public TimeSpan MergeColdWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Merges in flight at once.</summary>
    public int MaxMerges { get; init; } = 1;

    /// <exception cref="ArgumentException">A value that would make the balancer flap or never act.</exception>
    public void Validate()
    {
        if (LeaderTolerance < 1 || ReplicaTolerance < 1)
        {
            throw new ArgumentException($"Balancer tolerances must be at least 1 (leader {LeaderTolerance}, replica {ReplicaTolerance}): a smaller one makes two stores trade a shard back and forth.");
        }

        if (ReplicaSizeRatio <= 1 || ReplicaSizeMinBytes < 0 || SizeCountSlack < 0)
        {
            throw new ArgumentException($"ReplicaSizeRatio must be above 1 (not {ReplicaSizeRatio}), ReplicaSizeMinBytes ({ReplicaSizeMinBytes}) and SizeCountSlack ({SizeCountSlack}) not negative: stores at equal bytes would trade shards back and forth.");
        }

        if (LeaderLoadRatio <= 1 || LeaderLoadMinRequestsPerSecond < 0 || LoadCountSlack < 0)
        {
            throw new ArgumentException($"LeaderLoadRatio must be above 1 (not {LeaderLoadRatio}), LeaderLoadMinRequestsPerSecond ({LeaderLoadMinRequestsPerSecond}) and LoadCountSlack ({LoadCountSlack}) not negative: stores at equal load would trade leaders back and forth.");
        }

        if (ReplicaLoadRatio <= 1 || ReplicaLoadMinRequestsPerSecond < 0)
        {
            throw new ArgumentException($"ReplicaLoadRatio must be above 1 (not {ReplicaLoadRatio}) and ReplicaLoadMinRequestsPerSecond ({ReplicaLoadMinRequestsPerSecond}) not negative: stores at equal load would trade replicas back and forth.");
        }

        if (MaxLeaderTransfers < 0 || MaxReplicaMoves < 0 || MaxSplits < 0 || MaxMerges < 0)
        {
            throw new ArgumentException("Balancer in-flight limits must not be negative.");
        }

        if (SplitBytes <= 0)
        {
            throw new ArgumentException($"SplitBytes must be positive, not {SplitBytes}.");
        }

        // The merge limits matter against the split limits only while both act.
        bool both = AutoMerge && AutoSplit;
        if (MergeBytes < 0 || (both && MergeBytes > SplitBytes / 2))
        {
            throw new ArgumentException($"MergeBytes ({MergeBytes}) must be between 0 and half of SplitBytes ({SplitBytes}): a merged shard nearer the split size would split again, and split halves would merge back.");
        }

        if (MergeRequestsPerSecond < 0 || (both && SplitRequestsPerSecond > 0 && MergeRequestsPerSecond > SplitRequestsPerSecond / 2))
        {
            throw new ArgumentException($"MergeRequestsPerSecond ({MergeRequestsPerSecond}) must be between 0 and half of SplitRequestsPerSecond ({SplitRequestsPerSecond}), so split and merge never undo each other.");
        }

        if (ShardCooldown < TimeSpan.Zero || SplitLoadWindow < TimeSpan.Zero || MergeColdWindow < TimeSpan.Zero)
        {
            throw new ArgumentException("Balancer durations must not be negative.");
        }
    }
}
