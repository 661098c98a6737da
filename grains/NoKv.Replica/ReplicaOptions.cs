namespace NoKv.Replica;

/// <summary>Timing and limits of replica grains. All replicas of a cluster should use the same values.</summary>
public sealed class ReplicaOptions
{
    /// <summary>Period of the Raft tick timer. Election and heartbeat timeouts are counted in ticks.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Ticks without a leader before a follower campaigns (randomized up to twice this). 6 x 100 ms: a killed or frozen
    /// leader's shards elect again 0.6-1.2 s after its last heartbeat, so failover stays well under 2 s with the client's
    /// retry on top (docs/chaos.md: kill p99 1.26 s, pause p99 see there, on the loaded 2-core test machine). Shorter
    /// makes a leader that stalls (GC, a starved CPU) lose its shards: pre-vote and check-quorum keep a stalled or
    /// partitioned replica from disrupting a healthy leader, but not a stall of the leader itself; a steady 45 s run
    /// at load 3-11 fired no election timeout at this value. Clients' AttemptTimeout follows it.
    /// </summary>
    public int ElectionTicks { get; set; } = 6;

    /// <summary>Ticks between leader heartbeats.</summary>
    public int HeartbeatTicks { get; set; } = 2;

    /// <summary>Applied entries after which the log is compacted behind a snapshot.</summary>
    public long SnapshotEntries { get; set; } = 10_000;

    /// <summary>
    /// 1 MiB snapshot chunks a leader keeps unacknowledged per catching-up follower (Raft's window). Each window's chunks
    /// leave in one envelope and are written to staging in one turn of the receiving replica, so a wide window is a
    /// burst of allocation and disk work on both silos while they serve. `move --quick` with 2 against 8, four runs each
    /// alternating (tests/NoKv.Benchmarks/README.md, "move"): worst p99 during the move 77-211 ms against 213-287 ms,
    /// the move 4.4-6.5 s against 4.3-4.6 s.
    /// </summary>
    public int SnapshotChunksInFlight { get; set; } = 2;

    /// <summary>Longest key a replica accepts (checked again server-side).</summary>
    public int MaxKeyBytes { get; set; } = Abstractions.Requests.KvLimits.DefaultMaxKeyBytes;

    /// <summary>Longest value a replica accepts (checked again server-side).</summary>
    public int MaxValueBytes { get; set; } = Abstractions.Requests.KvLimits.DefaultMaxValueBytes;

    /// <summary>
    /// Whether a leader may answer linearizable reads under its lease, without a heartbeat round (true, the default;
    /// docs/replica.md, "Lease reads"). The lease is 3/4 of an election timeout from the registration of the last read a
    /// quorum round confirmed, on the leader's monotonic clock: it assumes only that silos' clocks run at rates within
    /// 25% of each other, not that they agree. False confirms every read with a round (safe under any clock behaviour,
    /// about 1.6x the CPU per read on a 3-silo cluster).
    /// </summary>
    public bool LeaseReads { get; set; } = true;

    /// <summary>
    /// How far ahead of the clock the controller leader commits the timestamp oracle's high-water mark: one commit
    /// serves every timestamp request for about this long (docs/controller.md, "Timestamp oracle").
    /// </summary>
    public TimeSpan TimestampWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Dedupe rows of client sessions unused for this long are dropped (checked by each leader every few
    /// minutes). Must far exceed any client's operation deadline: a retry arriving after its session row
    /// expired would be applied again.
    /// </summary>
    public TimeSpan SessionTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often a leader starts a round of version garbage collection over its shard (docs/transactions.md, "GC").
    /// Zero or negative: never.
    /// </summary>
    public TimeSpan GcInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an old version stays readable after a newer one replaced it: snapshot reads and transactions older
    /// than this (by the oracle's timestamps) may be refused with SnapshotTooOld once GC ran.
    /// </summary>
    public TimeSpan GcLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>User keys per GC command: bounds one apply batch and one Raft entry's work.</summary>
    public int GcSliceKeys { get; set; } = 1024;

    /// <summary>
    /// How long a plain write (Put, Delete, CompareAndSwap) waits for the timestamp oracle when its leader needs a block of
    /// timestamps (a new leader priming its read floor, a stamp past the reserved block) before it goes ahead without:
    /// stamped from replicated state and the shard marked unanchored, so transactions touching the shard abort once
    /// (SnapshotTooOld) until the oracle is back (docs/transactions.md, "Plain writes without the oracle"). Plain writes
    /// never depend on the controller group being up; this only bounds the extra latency. Checked at tick resolution.
    /// </summary>
    public TimeSpan PlainWriteOracleWait { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a replica waits for its proposal or read to complete before answering Timeout.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Idle groups hibernate (docs/replica.md, "Hibernation"): once a leader has seen nothing but heartbeats for
    /// <see cref="HibernateAfterTicks"/> ticks with every peer caught up, it asks its followers to stop ticking and stops
    /// itself; the group sends nothing until a request or a message wakes it, or a peer's store falls silent. Never for
    /// the controller group, whose timestamp oracle relies on check-quorum timing that a group which does not tick cannot
    /// keep; a sleeping leader drops its read lease (see <see cref="LeaseReads"/>).
    /// </summary>
    public bool Hibernate { get; set; } = true;

    /// <summary>
    /// Idle ticks (nothing but heartbeats) before a leader hibernates its group. Going to sleep costs one round of notices
    /// (as much as a heartbeat round) and waking costs nothing (the request's append wakes the followers), while every tick
    /// a group stays awake costs each replica a scheduler turn and every heartbeat interval a round of messages. With
    /// 1,000 shards under a write load that reaches each shard a few times a second, 20 ticks kept every group awake: 27
    /// ticks and 23 Raft messages per write, against 7 and 10 with 2 (tests/NoKv.Benchmarks/README.md, "cluster --shards
    /// 1000"). The default stays 20 until the replica simulation's move scenarios run green at 2.
    /// </summary>
    public int HibernateAfterTicks { get; set; } = 20;
}
