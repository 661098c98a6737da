using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// What a stopped store's engine holds for one shard replica (<see cref="OfflineStoreReader"/>): the Raft hard state,
/// the log's extent, the applied index and the replica's descriptor, each null when its row is absent.
/// </summary>
public sealed class OfflineShardState
{
    public required ShardId Shard { get; init; }

    /// <summary>This store's peer id in the group (from the replica state row).</summary>
    public ulong? PeerId { get; set; }

    /// <summary>The shard as of the applied index (range, epochs, peers).</summary>
    public ShardDescriptor? Descriptor { get; set; }

    /// <summary>Why the replica state row could not be read, when it could not.</summary>
    public string? DescriptorError { get; set; }

    public ulong? Term { get; set; }

    /// <summary>Peer id voted for in <see cref="Term"/> (0 = none).</summary>
    public ulong? Vote { get; set; }

    public ulong? CommitIndex { get; set; }

    public ulong? AppliedIndex { get; set; }

    public ulong? AppliedTerm { get; set; }

    /// <summary>Index of the last entry compacted away (the log starts after it).</summary>
    public ulong? TruncatedIndex { get; set; }

    public ulong? TruncatedTerm { get; set; }

    /// <summary>First and last index of the log entries present (null when the log is empty).</summary>
    public ulong? FirstLogIndex { get; set; }

    public ulong? LastLogIndex { get; set; }

    /// <summary>Log entries present and their bytes.</summary>
    public long LogEntries { get; set; }

    public long LogBytes { get; set; }

    /// <summary>Client session (exactly-once) rows.</summary>
    public long Sessions { get; set; }

    /// <summary>Rows of this group under tags this build does not describe (state of newer features).</summary>
    public long OtherRows { get; set; }

    /// <summary>
    /// Engine rows inside the descriptor's user-data range and their key plus value bytes (0 without a descriptor): one
    /// row per live key while data rows are plain key/value; with multi-version rows, one per stored version.
    /// </summary>
    public long DataRows { get; set; }

    public long DataBytes { get; set; }
}
