namespace NoKv.Raft;

/// <summary>The host's report on sending a snapshot chunk, via <see cref="RawNode.ReportSnapshot"/>.</summary>
public enum SnapshotStatus : byte
{
    /// <summary>The transport delivered the chunk (acknowledgement still comes from the follower).</summary>
    Finish = 0,

    /// <summary>The transport failed; the leader resumes from the last acknowledged offset on the next heartbeat.</summary>
    Failure = 1,
}
