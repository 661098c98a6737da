namespace NoKv.Raft.Tracker;

/// <summary>How a leader sends entries to one follower.</summary>
public enum ProgressState : byte
{
    /// <summary>The follower's log position is unknown: send one Append per heartbeat interval and wait for the answer.</summary>
    Probe = 0,

    /// <summary>The follower is known to match: stream Appends optimistically, bounded by the inflight window.</summary>
    Replicate = 1,

    /// <summary>The follower needs compacted entries: send the snapshot in chunks, nothing else.</summary>
    Snapshot = 2,
}
