namespace NoKv.Raft.Tests.Testing;

/// <summary>Settings of one simulated cluster run. Times are virtual milliseconds.</summary>
public sealed record SimOptions
{
    public int Nodes { get; init; } = 3;

    public ulong Seed { get; init; } = 1;

    /// <summary>Virtual milliseconds between two ticks of a node's clock.</summary>
    public long TickInterval { get; init; } = 10;

    /// <summary>
    /// Per-node clock rate error, as a fraction: each node's tick interval is drawn from
    /// TickInterval * (1 ± ClockDrift). Lease reads are only safe for small drift.
    /// </summary>
    public double ClockDrift { get; init; }

    public int ElectionTick { get; init; } = 10;

    public int HeartbeatTick { get; init; } = 1;

    /// <summary>Pre-vote on or off; null: chosen per seed (off for seeds = 2 mod 3), so scenarios that do not
    /// depend on it also cover the plain election path.</summary>
    public bool? PreVote { get; init; }

    /// <summary>Check-quorum on or off; null: chosen per seed (off for seeds = 4 mod 5). Lease reads need it on.</summary>
    public bool? CheckQuorum { get; init; }

    public bool IsPreVote => PreVote ?? (Seed % 3 != 2);

    public bool IsCheckQuorum => CheckQuorum ?? (Seed % 5 != 4 || ReadOnlyOption == ReadOnlyOption.LeaseBased);

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    public ulong MaxSizePerMsg { get; init; } = 4096;

    public int MaxInflightMsgs { get; init; } = 256;

    public int SnapshotChunkSize { get; init; } = 1 << 20;

    /// <summary>The host snapshots and compacts its log once this many applied entries sit above the last
    /// snapshot; 0 disables snapshots.</summary>
    public int SnapshotThreshold { get; init; }

    /// <summary>
    /// How the host keeps its state machine. False: volatile, rebuilt from the last snapshot on restart
    /// (Applied = snapshot index). True: durable like NoKV's replica (data, applied index and membership
    /// stored together without their own fsync, made durable by the next synced Raft write; a crash loses
    /// the unsynced tail, which is replayed from the log), so a restart sets RaftConfig.Applied above the
    /// snapshot and the host records membership with MemoryRaftStorage.SetConfState as each change applies.
    /// Null: chosen per seed (even seeds durable), so every scenario covers both.
    /// </summary>
    public bool? DurableStateMachine { get; init; }

    /// <summary>Largest virtual time a durable write (MustSync Ready) takes; a crash inside it loses the write.
    /// 0 makes persistence instantaneous.</summary>
    public long MaxDiskLatency { get; init; }

    public LinkFaults Faults { get; init; } = LinkFaults.Reliable;

    /// <summary>Record a trace (costly); the runner turns it on when replaying a failed seed.</summary>
    public bool Trace { get; init; }

    /// <summary>Bytes of padding in each proposed command.</summary>
    public int PayloadPadding { get; init; }

    /// <summary>
    /// The host sends a Ready's <see cref="Ready.MessagesBeforePersist"/> (a leader's replication messages)
    /// as soon as it starts the durable write, and the rest after it, as NoKV's replica grain does. Null: chosen
    /// per seed (on for seeds 0 and 1 mod 4), so every scenario with disk latency covers both host behaviours.
    /// </summary>
    public bool? LeaderSendsBeforePersist { get; init; }

    /// <summary>
    /// <see cref="RaftConfig.LazyCommitPropagation"/>; null: chosen per seed (on for seeds = 1 mod 3), so
    /// scenarios cover followers that learn the commit index only from the next Append or heartbeat.
    /// </summary>
    public bool? LazyCommitPropagation { get; init; }

    /// <summary>The effective <see cref="LazyCommitPropagation"/> for this seed.</summary>
    public bool IsLazyCommitPropagation => LazyCommitPropagation ?? (Seed % 3 == 1);

    /// <summary>The effective <see cref="LeaderSendsBeforePersist"/> for this seed.</summary>
    public bool IsLeaderSendsBeforePersist => LeaderSendsBeforePersist ?? (Seed % 4 < 2);

    /// <summary>
    /// Harness self-test only: the host sends a Ready's messages before its durable write completes,
    /// breaking the Ready contract, so a crash can lose state that peers were already told about. The
    /// checkers must catch the consequences.
    /// </summary>
    public bool BrokenHostSendsBeforePersist { get; init; }

    /// <summary>Harness self-test only: the host serves reads from its local state machine at once,
    /// skipping ReadIndex; the read checker must catch the stale answers.</summary>
    public bool BrokenHostServesLocalReads { get; init; }

    /// <summary>The effective <see cref="DurableStateMachine"/> for this seed.</summary>
    public bool IsDurableStateMachine => DurableStateMachine ?? (Seed % 2 == 0);

    /// <summary>One election timeout in virtual milliseconds (the unit scenarios wait in).</summary>
    public long ElectionTimeout => ElectionTick * TickInterval;

    public override string ToString() =>
        $"nodes={Nodes} seed={Seed} tick={TickInterval}ms drift={ClockDrift} election={ElectionTick} heartbeat={HeartbeatTick} "
        + $"prevote={IsPreVote} checkquorum={IsCheckQuorum} read={ReadOnlyOption} snapshot={SnapshotThreshold} disk={MaxDiskLatency} early-send={IsLeaderSendsBeforePersist} lazy-commit={IsLazyCommitPropagation} durable-sm={IsDurableStateMachine} faults=[{Faults}]";
}
