namespace NoKv.Replica.Tests.Simulation;

/// <summary>Something the simulation does at a virtual time; the sequence number keeps equal times in scheduling order.</summary>
internal readonly record struct SimEvent(long Time, long Sequence, Action Action);
