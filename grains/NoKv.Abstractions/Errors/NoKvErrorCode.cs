namespace NoKv.Abstractions.Errors;

/// <summary>
/// Outcome of a request as a code. Sent on the wire and stored in the dedupe table: never renumber.
/// Retryable codes (the client refreshes its routing and tries again until its deadline) are NotLeader,
/// WrongShard, StoreUnavailable, Timeout and ProposalDropped; the rest are final.
/// </summary>
public enum NoKvErrorCode
{
    Ok = 0,

    /// <summary>The replica is not the shard's leader; the response carries a leader hint if it knows one.</summary>
    NotLeader = 1,

    /// <summary>The request's shard epoch or key range does not match the replica's; refresh the shard map.</summary>
    WrongShard = 2,

    /// <summary>The store that must host the replica is down; the replica is never re-created elsewhere.</summary>
    StoreUnavailable = 3,

    KeyTooLarge = 4,
    ValueTooLarge = 5,
    EmptyKey = 6,

    /// <summary>A scan range with start >= end, or a non-positive limit.</summary>
    InvalidRange = 7,

    /// <summary>The caller's deadline passed before the request completed; a write may or may not have applied.</summary>
    Timeout = 8,

    /// <summary>Leadership changed before the proposal committed; retrying with the same session sequence is safe.</summary>
    ProposalDropped = 9,

    /// <summary>The request's session sequence is older than one the shard already applied for that session.</summary>
    StaleSequence = 10,

    /// <summary>A follower read could not be served within the requested staleness bound.</summary>
    StaleReadUnavailable = 11,

    /// <summary>
    /// The leader will not propose the command the request needs until every store runs a build that reads it (a
    /// rolling upgrade is under way, docs/format-commands.md "Gate"). Nothing was proposed; an older form of the
    /// request, if the caller has one, is safe to send instead.
    /// </summary>
    CommandNotEnabled = 12,

    /// <summary>A transaction's lock holds the key; the response carries it, to be resolved through its primary.</summary>
    KeyLocked = 20,

    /// <summary>A transaction conflicts with a version committed after its start, or with a read it made changing.</summary>
    WriteConflict = 21,

    /// <summary>The transaction was rolled back (by its client, or by a resolver after its lock expired).</summary>
    TxnAborted = 22,

    /// <summary>A snapshot read or transaction below the shard's GC safe point.</summary>
    SnapshotTooOld = 23,

    /// <summary>A fenced write presented a lock token lower than one the shard has already seen for that resource.</summary>
    FencedOut = 40,

    /// <summary>The lock is not held by the caller (its lease expired, or it was released): renewing is refused.</summary>
    LockNotHeld = 41,

    /// <summary>A malformed lock request (a lease out of bounds, a missing owner or token).</summary>
    InvalidLockRequest = 42,

    /// <summary>The lock could not be acquired: another owner holds it and the caller's wait ran out (or it did not wait).</summary>
    LockNotAcquired = 43,

    /// <summary>
    /// The call carried no credential, or one the cluster does not accept (unknown key, bad signature, outside the
    /// clock-skew window); nothing was done. Final: retrying with the same credential cannot help (docs/security.md).
    /// </summary>
    Unauthenticated = 60,
}
