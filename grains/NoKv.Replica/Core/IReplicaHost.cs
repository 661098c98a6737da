using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Raft.Messages;

namespace NoKv.Replica.Core;

/// <summary>
/// What a <see cref="ReplicaCore"/> needs from the process that runs it: clocks and a transport. The replica
/// grain implements it over Orleans; the replica simulator over a seeded virtual network and virtual time.
/// Every member is called on the core's own logical thread and must not block.
/// </summary>
public interface IReplicaHost
{
    /// <summary>Monotonic milliseconds: request deadlines and leader contact. Never goes backwards.</summary>
    long NowMs { get; }

    /// <summary>Wall clock, Unix milliseconds: stamped into proposals (session expiry), so replicas stay deterministic.</summary>
    long WallClockMs { get; }

    /// <summary>
    /// Hands <paramref name="messages"/> (all addressed to <paramref name="to"/>) to the transport. Returns false
    /// when they cannot leave (the peer's store is known down, the call failed at once); the core then reports
    /// the peer unreachable to Raft. Delivery is never awaited: Raft retransmits what is lost. A failure found
    /// later is reported through <see cref="ReplicaCore.ReportUnreachable"/>.
    /// The messages are only valid during the call: encode or copy them before returning.
    /// </summary>
    bool Send(PeerDescriptor to, ReadOnlySpan<Message> messages);

    /// <summary>Whether <paramref name="store"/> is believed up (a preferred leader is only handed leadership if so).</summary>
    bool IsStoreAvailable(StoreId store);

    /// <summary>
    /// Whether <paramref name="store"/>'s disk is slow now (its log syncs take too long; this replica's own store
    /// included). A leader on a slow store hands leadership to a voter on a healthy one, and no leader hands it to a
    /// slow store (docs/replica.md, "Slow disks"). The default reports no store slow.
    /// </summary>
    bool IsStoreSlow(StoreId store) => false;

    /// <summary>
    /// <paramref name="count"/> consecutive timestamps from the cluster's timestamp oracle, reserved for the caller;
    /// returns the first. Each is larger than every timestamp the oracle handed to anyone before this call was made,
    /// and the oracle hands none of them to anyone else. A leader of a user shard takes such a block before it serves
    /// transactional reads or stamps versions, and stamps versions only inside blocks it holds (docs/transactions.md,
    /// "The read floor in the leader's memory"). Throws when the oracle cannot be reached in time; the replica then
    /// answers its caller with a retryable error.
    /// </summary>
    Task<long> GetOracleTimestampsAsync(int count);

    /// <summary>
    /// When anything last arrived from <paramref name="store"/> (<see cref="NowMs"/> time). A host that sends every other
    /// store something at least every heartbeat interval (the grain host's Raft transport does) lets a hibernating replica
    /// notice a dead or cut-off peer: one silent for an election timeout wakes it. The default never reports silence,
    /// so a host without such traffic must not let groups hibernate.
    /// </summary>
    long LastHeardFrom(StoreId store) => NowMs;

    /// <summary>
    /// Whether the replica's pump always lets its caller run on before it continues after an engine write, also when
    /// the engine finished the write inline. The engine finishes a write inline or on its writer thread as timing has
    /// it, and the pump then goes on at once or only after its caller: a host that must replay the same interleaving
    /// from the same input (the deterministic replica simulation) asks for the second every time. Off by default: in
    /// production the extra turn would only add latency.
    /// </summary>
    bool UniformWriteCompletion => false;

    /// <summary>
    /// Whether a leader exports a snapshot for a follower inside Raft's request, on the replica's thread, rather than on
    /// the thread pool while Raft asks again later. Off by default (a large shard's export held a silo scheduler thread
    /// for seconds); a host that must replay the same history from the same seed (the simulator) turns it on, since
    /// when a background export finishes is not up to the seed.
    /// </summary>
    bool ExportSnapshotsInline => false;

    /// <summary>
    /// The directory where the replica stages Raft snapshots in files: a leader's export for a follower (read a chunk
    /// at a time as it is sent) and a follower's chunks as they arrive (installed by streaming from the file), so
    /// neither side holds a shard-sized array (docs/replica.md, "Snapshots in files"). The host empties it before any
    /// replica opens (files a crash left). Null (the default): snapshots are built and reassembled in memory, as the
    /// simulator and most tests do.
    /// </summary>
    string? SnapshotStagingDirectory => null;

    /// <summary>
    /// The cluster's status-collection point as last published by the controller (docs/transactions.md, "GC"): no lock
    /// of a transaction that started below it exists on any shard, or ever will, so status rows below it may go. 0 (the
    /// default) while none is known: nothing is collected.
    /// </summary>
    long StatusCollectionPoint => 0;

    /// <summary>
    /// The cluster's command format level as last published by the controller (docs/format-commands.md, "Gate"): a
    /// leader proposes a command that needs a higher level only once this reaches it. The default is this build's own
    /// level, for hosts where every replica runs one build (the simulator, tests).
    /// </summary>
    int ClusterFormatLevel => Commands.CommandFormatLevel.Current;

    /// <summary>
    /// Asks the leader of the shard holding <paramref name="primaryKey"/> for the outcome of the transaction that started
    /// at <paramref name="startTs"/> (a check-status that may roll back an expired or absent primary: the caller holds one
    /// of its locks, long expired). Used by GC rounds to resolve old locks whose primary lives elsewhere. Null when the
    /// host cannot route it (the default): such a lock then simply stays until a reader resolves it, and holds back
    /// status collection meanwhile.
    /// </summary>
    Task<TxnResponse?> CheckTransactionStatusAsync(byte[] primaryKey, long startTs) => Task.FromResult<TxnResponse?>(null);
}
