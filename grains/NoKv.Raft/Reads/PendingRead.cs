namespace NoKv.Raft.Reads;

/// <summary>A read request waiting on a leader for confirmation of its leadership.</summary>
/// <param name="Round">The heartbeat round whose quorum acknowledgement releases it (0 while waiting for the leader's first commit).</param>
/// <param name="Index">The leader's commit index when the request arrived; the read is served at or after it.</param>
/// <param name="From">Requesting node (the leader itself for local reads).</param>
/// <param name="Mode">The read mode the requester asked for.</param>
internal readonly record struct PendingRead(ulong Round, ulong Index, ulong From, ReadOnlyMemory<byte> Context, ReadOnlyOption Mode);
