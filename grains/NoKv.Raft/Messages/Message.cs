namespace NoKv.Raft.Messages;

/// <summary>A message between Raft nodes, or a local event fed to <see cref="RawNode.Step"/>.</summary>
/// <remarks>
/// An immutable value: building and sending one allocates nothing, so a steady replication stream
/// costs no garbage per message. A host may keep, queue, duplicate or resend a message after
/// <see cref="RawNode.Advance"/>: <see cref="Entries"/> is a view over an array that the library never
/// writes again once a message references it, and the entries' payloads are the proposers' memory,
/// never mutated. Which fields are meaningful depends on <see cref="Type"/>; unused fields are
/// zero/empty; <c>default(Message)</c> is not a valid message. About 120 bytes: pass it by <c>in</c>
/// on hot paths.
/// </remarks>
public readonly struct Message
{
    public MessageType Type { get; init; }

    public ulong From { get; init; }

    public ulong To { get; init; }

    /// <summary>Sender's term; 0 for local messages (and for proposals forwarded as local input).</summary>
    public ulong Term { get; init; }

    /// <summary>Append: term of the entry at <see cref="Index"/>. Vote/PreVote: term of the candidate's last entry.
    /// AppendResponse reject: term of the follower's entry at <see cref="RejectHint"/>.
    /// Heartbeat/HeartbeatResponse: the leader's tick when it sent the heartbeat (echoed).</summary>
    public ulong LogTerm { get; init; }

    /// <summary>Append: index preceding <see cref="Entries"/>. Vote: candidate's last index.
    /// AppendResponse: last index accepted (or the rejected Append's Index). ReadIndexResponse: the read index.
    /// Snapshot/SnapshotResponse: index of the snapshot. Heartbeat/HeartbeatResponse: the leader's heartbeat round (echoed).</summary>
    public ulong Index { get; init; }

    public ReadOnlyMemory<Entry> Entries { get; init; }

    public ulong Commit { get; init; }

    /// <summary>Vote/PreVote responses: the vote was refused. AppendResponse: log did not match.
    /// SnapshotResponse: the chunk was out of order (ChunkOffset says where to resume).
    /// SnapshotStatus: the transfer failed.</summary>
    public bool Reject { get; init; }

    /// <summary>AppendResponse reject: the index from which the leader should retry (fast backtracking).</summary>
    public ulong RejectHint { get; init; }

    /// <summary>Snapshot: the snapshot's metadata with <see cref="Messages.Snapshot.Data"/> holding just this chunk.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Snapshot: byte offset of this chunk in the whole snapshot data.
    /// SnapshotResponse: bytes the follower now holds contiguously (where the next chunk starts).</summary>
    public ulong ChunkOffset { get; init; }

    /// <summary>Snapshot: total length of the snapshot data in bytes.</summary>
    public ulong SnapshotSize { get; init; }

    /// <summary>ReadIndex/ReadIndexResponse: the host's request context (echoed on Heartbeat(Response)); Vote: campaign reason.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>True for types that only ever enter through a local <see cref="RawNode"/> method.</summary>
    public static bool IsLocal(MessageType type) => type is MessageType.Hup or MessageType.Beat or MessageType.Unreachable
        or MessageType.SnapshotStatus or MessageType.CheckQuorum;

    /// <summary>True for responses (they never start an election or change a follower's leader).</summary>
    public static bool IsResponse(MessageType type) => type is MessageType.AppendResponse or MessageType.VoteResponse
        or MessageType.PreVoteResponse or MessageType.HeartbeatResponse or MessageType.SnapshotResponse
        or MessageType.ReadIndexResponse or MessageType.Unreachable;

    public override string ToString()
    {
        var text = $"{From}->{To} {Type} Term:{Term} Log:{LogTerm}/{Index} Commit:{Commit}";
        if (Reject)
        {
            text += $" Rejected (Hint: {RejectHint})";
        }

        if (!Entries.IsEmpty)
        {
            var span = Entries.Span;
            text += $" Entries:[{span[0].Index}..{span[^1].Index}]";
        }

        if (Snapshot is not null)
        {
            text += $" Snapshot[{Snapshot.Metadata.Index}/{Snapshot.Metadata.Term} @{ChunkOffset}+{Snapshot.Data.Length}/{SnapshotSize}]";
        }

        return text;
    }
}
