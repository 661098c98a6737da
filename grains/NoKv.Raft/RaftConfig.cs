using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>Settings of one Raft node. Validated by <see cref="Validate"/> when a <see cref="RawNode"/> is built.</summary>
public sealed record RaftConfig
{
    /// <summary>This node's id; never 0 (0 means "no node").</summary>
    public ulong Id { get; init; }

    /// <summary>
    /// Ticks a follower waits without hearing from a leader before campaigning. The actual timeout is
    /// drawn uniformly from [ElectionTick, 2*ElectionTick) each time the timer resets, so split votes
    /// resolve quickly. Must exceed HeartbeatTick; 10x is the usual choice. Larger values ride out
    /// longer network hiccups but make failover slower. Also the check-quorum and lease period.
    /// </summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>Ticks between leader heartbeats.</summary>
    public int HeartbeatTick { get; init; } = 1;

    /// <summary>
    /// Upper bound on the entry bytes in one Append message (a single larger entry still goes alone).
    /// Larger batches mean more throughput and fewer messages; smaller ones mean less work lost to a
    /// dropped message and faster probing. 0 means one entry per message.
    /// </summary>
    public ulong MaxSizePerMsg { get; init; } = 1 << 20;

    /// <summary>
    /// Append messages a leader keeps unacknowledged per follower in replicate state (the pipeline
    /// window). Bounds memory and the transport's buffer; too small throttles high-latency links.
    /// </summary>
    public int MaxInflightMsgs { get; init; } = 256;

    /// <summary>
    /// Entry bytes a leader keeps unacknowledged per follower in replicate state; 0 = bounded only by
    /// <see cref="MaxInflightMsgs"/>. Without it a follower that comes back far behind (a new replica after its
    /// snapshot, a restarted one) is sent up to MaxInflightMsgs x MaxSizePerMsg at once in one Ready: the leader
    /// builds and encodes all of it in one turn, stalling every other request it serves.
    /// </summary>
    public ulong MaxInflightBytes { get; init; }

    /// <summary>
    /// Bytes of proposed-but-uncommitted entries a leader accepts before refusing proposals with
    /// <see cref="ProposalStatus.UncommittedSizeExceeded"/>. Protects memory when a quorum is slow. 0 = unlimited.
    /// </summary>
    public ulong MaxUncommittedEntriesSize { get; init; }

    /// <summary>Upper bound on the bytes of committed entries handed out in one <see cref="Ready"/>. 0 = MaxSizePerMsg.</summary>
    public ulong MaxCommittedSizePerReady { get; init; }

    /// <summary>
    /// Recycle the arrays behind outgoing messages' <see cref="Messages.Message.Entries"/>. Default false: a
    /// message stays valid forever (a host may queue, duplicate or resend it). When true, the Entries of the
    /// messages in a Ready are valid only until the host's next <see cref="RawNode.GetReady"/> on this node
    /// returns: the host must serialize them (or step them into their target nodes, which copy) before that,
    /// and must not keep or resend the message objects afterwards. The same holds for the chunk bytes of a Snapshot
    /// message read from a snapshot's payload (unless the snapshot fits in one chunk). Every other field, and the entry
    /// payloads, stay valid. With it the steady replication path allocates nothing per entry.
    /// </summary>
    public bool ReuseMessageEntryBuffers { get; init; }

    /// <summary>Bytes of snapshot data per Snapshot message. The follower acknowledges each chunk.</summary>
    public int SnapshotChunkSize { get; init; } = 1 << 20;

    /// <summary>
    /// Snapshot chunks a leader keeps unacknowledged per follower. One chunk at a time paid a whole round trip through
    /// both hosts' Ready loops and transports per chunk (about 7.5 MB/s in the 1 GiB re-replication benchmark); a
    /// window keeps the link busy while costing at most this many chunks of extra sending after a loss.
    /// </summary>
    public int SnapshotChunksInFlight { get; init; } = 8;

    /// <summary>
    /// Makes the sink a follower appends an arriving snapshot's chunks to, given its metadata and declared size. Null
    /// (the default): a <see cref="Snapshots.MemorySnapshotSink"/>, one array of the snapshot's size (at most 2 GiB).
    /// A host that stages snapshots in files keeps a follower's memory per snapshot to one chunk.
    /// </summary>
    public Func<SnapshotMetadata, ulong, Snapshots.SnapshotSink>? SnapshotSinkFactory { get; init; }

    /// <summary>
    /// Run a pre-vote round before a real election: a partitioned node that cannot win does not bump
    /// its term, so it cannot depose a healthy leader when it rejoins.
    /// </summary>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// A leader that has not heard from a quorum within an election timeout steps down; followers
    /// that heard from a leader within the timeout ignore vote requests (leader lease). Required for
    /// lease reads.
    /// </summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>
    /// The highest term in which no leader of this group can ever have existed: the term every replica of the group
    /// was created at by its host (a group made by a split starts all its replicas at one term, so its first leader is
    /// elected in a later one). A node restarting at or below it never acknowledged a leader, so it owes no lease and
    /// votes at once, instead of refusing votes for an election timeout as a restarted node must (with
    /// <see cref="CheckQuorum"/>). 0 (the default): every restart at a term above 0 honours the lease.
    /// </summary>
    public ulong LeaseFreeTerm { get; init; }

    /// <summary>
    /// When the leader's commit index moves and it has no new entries to send, it does not send an empty
    /// Append just to carry the new commit index: followers learn it from the next Append or heartbeat.
    /// Off (etcd's behaviour): followers apply within a round trip of the commit, at the price of one extra
    /// message, follower write and response per commit round. On: under steady load the commit index rides
    /// on the next batch of entries, so each follower handles one Ready per batch instead of two; when the
    /// group goes idle, followers apply up to one heartbeat interval later. Safety is unaffected (a commit
    /// index is only ever learned late, never early); what is delayed is follower-side application, so
    /// reads served by followers (forwarded ReadIndex, stale reads) can wait up to a heartbeat longer.
    /// </summary>
    public bool LazyCommitPropagation { get; init; }

    /// <summary>The default read mode for <see cref="RawNode.ReadIndex(ReadOnlyMemory{byte})"/>.</summary>
    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>
    /// The only source of randomness (election timeouts). Inject a seeded <see cref="System.Random"/>
    /// for reproducible simulations. Required. Used only from the thread driving the node.
    /// </summary>
    public Random? Random { get; init; }

    /// <summary>
    /// The last index the host has applied to its state machine (0 for a fresh node). Committed entries
    /// are delivered from Applied + 1. Must be set on restart to what the state machine holds durably.
    /// </summary>
    public ulong Applied { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Id == 0)
        {
            throw new ArgumentException("RaftConfig.Id must not be 0 (0 means \"no node\").", nameof(Id));
        }

        if (HeartbeatTick <= 0)
        {
            throw new ArgumentException($"RaftConfig.HeartbeatTick must be positive, was {HeartbeatTick}.", nameof(HeartbeatTick));
        }

        if (ElectionTick <= HeartbeatTick)
        {
            throw new ArgumentException(
                $"RaftConfig.ElectionTick ({ElectionTick}) must be greater than HeartbeatTick ({HeartbeatTick}).", nameof(ElectionTick));
        }

        if (MaxInflightMsgs <= 0)
        {
            throw new ArgumentException($"RaftConfig.MaxInflightMsgs must be positive, was {MaxInflightMsgs}.", nameof(MaxInflightMsgs));
        }

        if (SnapshotChunkSize <= 0)
        {
            throw new ArgumentException($"RaftConfig.SnapshotChunkSize must be positive, was {SnapshotChunkSize}.", nameof(SnapshotChunkSize));
        }

        if (SnapshotChunksInFlight <= 0)
        {
            throw new ArgumentException($"RaftConfig.SnapshotChunksInFlight must be positive, was {SnapshotChunksInFlight}.", nameof(SnapshotChunksInFlight));
        }

        if (Random is null)
        {
            throw new ArgumentException("RaftConfig.Random is required: inject a (seeded) System.Random.", nameof(Random));
        }

        if (ReadOnlyOption == ReadOnlyOption.LeaseBased && !CheckQuorum)
        {
            throw new ArgumentException("RaftConfig.ReadOnlyOption LeaseBased requires CheckQuorum to be enabled.", nameof(ReadOnlyOption));
        }

        if (ReadOnlyOption is not (ReadOnlyOption.Safe or ReadOnlyOption.LeaseBased))
        {
            throw new ArgumentException($"RaftConfig.ReadOnlyOption {ReadOnlyOption} is not defined.", nameof(ReadOnlyOption));
        }
    }

    internal ulong EffectiveMaxCommittedSizePerReady => MaxCommittedSizePerReady == 0 ? Math.Max(MaxSizePerMsg, 1) : MaxCommittedSizePerReady;
}
