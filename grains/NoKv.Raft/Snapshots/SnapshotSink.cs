namespace NoKv.Raft.Snapshots;

/// <summary>
/// Where a follower puts the chunks of a snapshot as they arrive, in order, so it never holds the whole snapshot in
/// memory (a host stages them in a file). Made by <see cref="RaftConfig.SnapshotSinkFactory"/> when the first chunk
/// of a snapshot arrives.
/// </summary>
/// <remarks>
/// Ownership: the library disposes a sink it drops (a different snapshot starts, the leader's log made it useless, the
/// node is released), which discards the bytes. <see cref="Complete"/> hands the bytes over as a payload, which then
/// owns them; disposing the sink afterwards releases nothing. Called on the Raft node's thread only.
/// </remarks>
public abstract class SnapshotSink : IDisposable
{
    /// <summary>Bytes appended so far.</summary>
    public abstract long Length { get; }

    /// <summary>Appends the next chunk (it starts at <see cref="Length"/>).</summary>
    public abstract void Append(ReadOnlySpan<byte> chunk);

    /// <summary>All chunks arrived: the bytes, as a payload that now owns them. Nothing may be appended after.</summary>
    public abstract SnapshotPayload Complete();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Discards the bytes unless <see cref="Complete"/> handed them over. Must tolerate being called again.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
