namespace NoKv.Client.Locks;

/// <summary>Who keeps a held lock's lease alive.</summary>
public enum LockRenewal
{
    /// <summary>The holder calls <see cref="LockHandle.RenewAsync"/> before <see cref="LockHandle.Remaining"/> runs out.</summary>
    Manual,

    /// <summary>
    /// The handle renews in the background until it is released, disposed or lost; <see cref="LockHandle.LostToken"/>
    /// fires if renewals stop succeeding in time (no leader reachable, a partition) or one is refused.
    /// </summary>
    Automatic,
}
