namespace NoKv.Abstractions.Locks;

/// <summary>How a lock request ended, when its code is Ok. Sent on the wire: never renumber.</summary>
public enum LockOutcome : byte
{
    None = 0,

    /// <summary>The caller holds the lock; the response carries its fencing token.</summary>
    Granted = 1,

    /// <summary>The caller waits in the lock's queue (at <see cref="LockResponse.QueuePosition"/>, 1 = next).</summary>
    Queued = 2,

    /// <summary>Another owner holds the lock and the caller did not ask to wait.</summary>
    Busy = 3,

    /// <summary>The caller's lease was restarted.</summary>
    Renewed = 4,

    /// <summary>The caller held the lock (or waited for it) and no longer does.</summary>
    Released = 5,

    /// <summary>The caller does not hold the lock (its lease expired, or it released it already).</summary>
    NotHeld = 6,

    /// <summary>The answer to a status request.</summary>
    Status = 7,
}
