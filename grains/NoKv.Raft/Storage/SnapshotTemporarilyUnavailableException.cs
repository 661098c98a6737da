namespace NoKv.Raft.Storage;

/// <summary>
/// Thrown by <see cref="IRaftStorage.Snapshot"/> when a snapshot is being produced and is not ready
/// yet; the leader retries on a later heartbeat instead of failing.
/// </summary>
public sealed class SnapshotTemporarilyUnavailableException : Exception
{
    public SnapshotTemporarilyUnavailableException()
        : base("The Raft snapshot is temporarily unavailable; it is being generated.")
    {
    }
}
