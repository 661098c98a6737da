namespace NoKv.Replica.StateMachine;

/// <summary>Who holds a lock: the owner (one id per acquisition), its fencing token and the lease it asked for.</summary>
internal readonly record struct LockHolder(Guid Owner, long Token, long LeaseMs);
