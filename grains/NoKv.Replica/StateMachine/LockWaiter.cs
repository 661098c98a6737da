namespace NoKv.Replica.StateMachine;

/// <summary>An owner waiting in a lock's queue, with the lease it will hold once granted.</summary>
internal readonly record struct LockWaiter(Guid Owner, long LeaseMs);
