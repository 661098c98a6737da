namespace NoKv.Chaos.Faults;

/// <summary>One fault as injected: on which stores, from when to when it was healed (run clock ticks), and what was seen.</summary>
public sealed record InjectedFault(FaultKind Kind, IReadOnlyList<int> Stores, long Start, long Healed, string Note);
