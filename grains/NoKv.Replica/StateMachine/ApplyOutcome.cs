using NoKv.Abstractions.Errors;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// What applying one committed entry did, for answering the client that proposed it. <paramref name="Payload"/>
/// carries a command's richer answer (a transaction's lock, status or commit timestamp), or null.
/// </summary>
internal readonly record struct ApplyOutcome(ulong Index, ulong Term, NoKvErrorCode Code, bool Succeeded, object? Payload = null);
