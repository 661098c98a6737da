namespace NoKv.Abstractions.Locks;

/// <summary>What a <see cref="LockRequest"/> asks. Sent on the wire: never renumber.</summary>
public enum LockRequestKind : byte
{
    /// <summary>Take the lock, or join its queue (with <see cref="LockRequest.Wait"/>); by the holder, a renewal.</summary>
    Acquire = 1,

    /// <summary>Restart the holder's lease.</summary>
    Renew = 2,

    /// <summary>Give the lock up (the holder) or leave its queue (a waiter).</summary>
    Release = 3,

    /// <summary>Read the lock's holder, token and queue length (linearizable).</summary>
    Status = 4,
}
