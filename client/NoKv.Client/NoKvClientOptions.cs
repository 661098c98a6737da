using NoKv.Abstractions.Requests;

namespace NoKv.Client;

/// <summary>Client behaviour. Validated when the store is first resolved (see <see cref="NoKvClientOptionsValidator"/>).</summary>
public sealed class NoKvClientOptions
{
    /// <summary>Longest key accepted; keys above it fail with KeyTooLarge before sending. Must match or be below the cluster's.</summary>
    public int MaxKeyBytes { get; set; } = KvLimits.DefaultMaxKeyBytes;

    /// <summary>Longest value accepted; values above it fail with ValueTooLarge before sending.</summary>
    public int MaxValueBytes { get; set; } = KvLimits.DefaultMaxValueBytes;

    /// <summary>Deadline of one operation including all retries, unless the caller's token fires first.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The default <see cref="AttemptTimeout"/>: the replicas' default election timeout (ElectionTicks 6 x
    /// TickInterval 100 ms = 600 ms) plus half of it. A leader silent for an election timeout is replaced by Raft
    /// itself, so waiting longer on one only delays the retry; giving up much sooner would abandon leaders that are
    /// merely slow, while their followers still point back at them. See docs/cluster.md, "Retries and timeouts".
    /// </summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromMilliseconds(900);

    /// <summary>
    /// Longest wait for one attempt (one replica request, or one shard map fetch) before trying another replica.
    /// A store that lets an attempt time out is avoided until it answers again, with one probe request per this
    /// interval. Keep it at or above the cluster's election timeout (ElectionTicks x TickInterval of its replicas)
    /// plus a margin for a loaded leader's commit latency; <see cref="DefaultAttemptTimeout"/> fits the default
    /// replica options.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = DefaultAttemptTimeout;

    /// <summary>
    /// How often the Orleans client re-reads its gateway list when the application leaves Orleans' default (a minute):
    /// a restarted silo's gateway is reached directly again about two periods after it failed (docs/cluster.md,
    /// "Gateway quarantine"); set by <c>AddNoKvClient</c>. One gateway-list read per period: free for a static list, a
    /// membership-table read otherwise.
    /// </summary>
    public static readonly TimeSpan DefaultGatewayListRefreshPeriod = TimeSpan.FromSeconds(2);

    /// <summary>First retry delay; doubles per failed attempt (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Send each request straight to the silo hosting the target replica, through that silo's store service,
    /// instead of through whichever gateway Orleans assigns to the replica grain (which forwards it when it is
    /// not the replica's silo). On by default; off, every request is a plain grain call.
    /// </summary>
    public bool DirectRouting { get; set; } = true;

    /// <summary>
    /// Coalesce concurrent writes to one shard replica into batched calls (group commit from the client side): a
    /// write goes out at once while fewer than <see cref="MaxWriteCallsInFlight"/> calls to its replica are in
    /// flight, else it waits for one of them to finish and leaves with the writes queued behind it in one call,
    /// which the leader proposes in one Raft round. A lone write never waits; under load many writes share one
    /// message, one scheduling turn and one Raft append. Every write keeps its own session sequence, retries,
    /// deadline and answer. On by default.
    /// </summary>
    public bool WriteBatching { get; set; } = true;

    /// <summary>Most writes per batched call (see <see cref="WriteBatching"/>); a call also stops growing past 1 MiB of keys and values.</summary>
    public int MaxWritesPerBatch { get; set; } = 128;

    /// <summary>Write calls per shard replica in flight before further writes to it are queued into a batch (see <see cref="WriteBatching"/>).</summary>
    public int MaxWriteCallsInFlight { get; set; } = 2;

    /// <summary>Entries fetched per scan call to one shard.</summary>
    public int ScanPageSize { get; set; } = 512;

    /// <summary>
    /// How long a transaction's locks live without it finishing; after that, another client that meets one may roll
    /// the transaction back. Must exceed the time from prewrite to commit (a few round trips).
    /// </summary>
    public TimeSpan TransactionLockTtl { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Whether a two-phase commit returns as soon as its primary key is committed (the commit point) and commits the
    /// other keys in the background (true, one round trip less), or waits for them too (false). Either way the
    /// transaction is committed and visible to everyone once <c>CommitAsync</c> returns: a reader that meets a
    /// secondary's lock first looks up the primary and rolls the key forward.
    /// </summary>
    public bool CommitSecondariesInBackground { get; set; } = true;

    /// <summary>
    /// Whether the secondary commits of many transactions to one shard share a call: with one call per shard in
    /// flight, commits queued behind it leave together and are proposed in one Raft round (true, fewer messages
    /// under load); or each goes alone (false).
    /// </summary>
    public bool BatchSecondaryCommits { get; set; } = true;

    /// <summary>
    /// Whether a two-phase commit whose reads (not written) all lie in its primary's shard, and that scanned nothing,
    /// commits that shard in one phase after prewriting the others (true: one Raft entry, one call and the oracle call
    /// for the commit timestamp fewer; docs/transactions.md, "Primary in one phase"), or prewrites every shard first
    /// and takes the commit timestamp from the oracle (false, the classic order).
    /// </summary>
    public bool CommitPrimaryInOnePhase { get; set; } = true;

    /// <summary>How many times <c>TransactAsync</c> runs its body before giving up on conflicts.</summary>
    public int TransactionMaxAttempts { get; set; } = 10;

    /// <summary>
    /// Locks: how much faster this client's clock may run than the lock leader's, as a fraction (0.01 = 1%). A lease
    /// of L is treated as ended after L x (1 - rate) - <see cref="LockSafetyMargin"/>, measured on this client's
    /// monotonic clock from when the request that granted or renewed it was sent (docs/locks.md).
    /// </summary>
    public double LockClockDriftRate { get; set; } = 0.01;

    /// <summary>Locks: time taken off every lease on top of <see cref="LockClockDriftRate"/> (scheduling, a GC pause between checking and acting).</summary>
    public TimeSpan LockSafetyMargin { get; set; } = TimeSpan.FromMilliseconds(100);
}
