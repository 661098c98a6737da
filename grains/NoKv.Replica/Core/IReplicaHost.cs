using NoKv.Abstractions.Sharding;
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
    /// One timestamp from the cluster's timestamp oracle: larger than every timestamp it handed to anyone before this
    /// call was made. A new leader of a user shard takes one before it serves transactional reads or stamps versions
    /// (docs/transactions.md, "The read floor in the leader's memory"). Throws when the oracle cannot be reached in
    /// time; the replica then answers its caller with a retryable error.
    /// </summary>
    Task<long> GetOracleTimestampAsync();
}
