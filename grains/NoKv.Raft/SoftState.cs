namespace NoKv.Raft;

/// <summary>Volatile state the host may want to observe (routing, metrics); never needs persisting.</summary>
/// <param name="Lead">The known leader, or 0 when none is known.</param>
public readonly record struct SoftState(ulong Lead, StateRole Role);
