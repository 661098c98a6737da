namespace NoKv.Client.Locks;

/// <summary>
/// Distributed locks with leases and fencing tokens (docs/locks.md). A lock is named like a key and lives in the shard
/// owning that key; its fencing token strictly increases with every grant, across leader changes and crashes.
/// Holding a lock means: until <see cref="LockHandle.IsHeld"/> turns false by this client's own clock (which ends the
/// lease early by a safety margin), no other client is granted it. What a holder writes under the lock must carry
/// <see cref="LockHandle.Fence"/> (the fenced <see cref="IKvStore"/> writes) so that a holder that was paused or cut
/// off past its lease cannot overwrite a later holder's work. Thread-safe.
/// </summary>
public interface ILockService
{
    /// <summary>
    /// Takes lock <paramref name="name"/> for <paramref name="lease"/>, waiting up to <paramref name="waitTimeout"/>
    /// (zero: do not wait) behind earlier waiters, first come first served. The holder must renew before the lease
    /// runs out, or the lock's leader gives it to the next waiter.
    /// </summary>
    /// <exception cref="NoKv.Abstractions.Errors.LockNotAcquiredException">Still held by another owner when the wait ran out.</exception>
    /// <exception cref="NoKv.Abstractions.Errors.InvalidLockRequestException">A lease outside 100 ms to one day, or a negative wait.</exception>
    Task<LockHandle> AcquireAsync(string name, TimeSpan lease, TimeSpan waitTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="AcquireAsync(string, TimeSpan, TimeSpan, CancellationToken)"/>; with <see cref="LockRenewal.Automatic"/>
    /// the handle renews its lease in the background (a third of the way through it, then again) until released,
    /// disposed or lost, and cancels <see cref="LockHandle.LostToken"/> when it can no longer prove it holds the lock.
    /// </summary>
    Task<LockHandle> AcquireAsync(string name, TimeSpan lease, TimeSpan waitTimeout, LockRenewal renewal, CancellationToken cancellationToken = default);

    /// <summary>The lock's holder, token and queue length, read linearizably from its shard's leader.</summary>
    Task<LockStatus> GetStatusAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// A handle for an acquisition made elsewhere (a tool that keeps owner and token between processes, like the CLI).
    /// It counts as held only after a successful <see cref="LockHandle.RenewAsync"/>, whose send time starts its lease.
    /// </summary>
    LockHandle Attach(string name, Guid owner, long token, TimeSpan lease);
}
