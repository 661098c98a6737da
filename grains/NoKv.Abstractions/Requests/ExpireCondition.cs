namespace NoKv.Abstractions.Requests;

/// <summary>
/// When an expiry change (<see cref="WriteKind.Expire"/>) applies, judged atomically by the shard against the key's
/// current expiry. A value without expiry counts as expiring never (later than any time), as in Redis.
/// Written into Raft log entries (docs/format-commands.md): never renumber.
/// </summary>
public enum ExpireCondition : byte
{
    /// <summary>Whenever the key is live.</summary>
    Always = 0,

    /// <summary>Only if the value has no expiry (Redis NX).</summary>
    IfNoExpiry = 1,

    /// <summary>Only if the value has an expiry (Redis XX).</summary>
    IfHasExpiry = 2,

    /// <summary>Only if the new expiry is later than the current one (Redis GT; never for a value without expiry).</summary>
    IfLater = 3,

    /// <summary>Only if the new expiry is earlier than the current one (Redis LT; always for a value without expiry).</summary>
    IfEarlier = 4,
}
