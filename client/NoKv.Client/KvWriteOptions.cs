using NoKv.Abstractions.Locks;

namespace NoKv.Client;

/// <summary>
/// Per-write options: an expiry for the written value, and an optional lock fence (docs/locks.md). At most one of
/// <see cref="TimeToLive"/>, <see cref="ExpiresAt"/> and <see cref="KeepTimeToLive"/> may be set; none means the value
/// never expires (replacing a value that did).
/// </summary>
public sealed class KvWriteOptions
{
    public static KvWriteOptions None { get; } = new();

    /// <summary>
    /// The value expires this long after the shard leader proposes the write, by that leader's clock (millisecond
    /// resolution). Zero or negative: it is expired at once, so the write removes the key.
    /// </summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>The value expires at this absolute time, judged by the clocks of the shard's leaders. In the past: the write removes the key.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Keep the expiry of the value being replaced (none if it had none), like Redis's SET ... KEEPTTL.</summary>
    public bool KeepTimeToLive { get; init; }

    /// <summary>When set, the write is refused if a newer token of the same lock was seen (see the fenced PutAsync).</summary>
    public LockFence? Fence { get; init; }

    /// <summary>Options with only a time to live.</summary>
    public static KvWriteOptions WithTimeToLive(TimeSpan timeToLive) => new() { TimeToLive = timeToLive };

    internal bool HasExpiry => TimeToLive is not null || ExpiresAt is not null || KeepTimeToLive;
}
