namespace NoKv.Client.Locks;

/// <summary>A lock's state as its leader last applied it.</summary>
/// <param name="Name">The lock.</param>
/// <param name="Holder">The owner holding it, or null when free.</param>
/// <param name="Token">The holder's fencing token (0 when free).</param>
/// <param name="LastToken">The highest token ever granted for the lock (0 if never taken).</param>
/// <param name="Lease">The holder's lease (zero when free).</param>
/// <param name="Waiters">Owners waiting in the queue.</param>
public sealed record LockStatus(string Name, Guid? Holder, long Token, long LastToken, TimeSpan Lease, int Waiters);
