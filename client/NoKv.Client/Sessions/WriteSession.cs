namespace NoKv.Client.Sessions;

/// <summary>
/// One exactly-once session: an id and the next sequence number. Used by one write at a time (the pool
/// guarantees it), which is what lets each shard remember just the last sequence per session.
/// </summary>
internal sealed class WriteSession
{
    private long _next;

    public WriteSession(Guid id) => Id = id;

    public Guid Id { get; }

    /// <summary>A fresh sequence for a new write; a retry of the same write reuses the one it got.</summary>
    public long NextSequence() => ++_next;
}
