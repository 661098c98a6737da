using NoKv.Abstractions.Errors;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// What applying one committed entry did, for answering the client that proposed it. <see cref="Payload"/> carries a
/// command's result value where it has one (a lock's fencing token or queue position; 0 otherwise);
/// <see cref="Result"/> a command's richer answer (a transaction's lock, status or commit timestamp), or null.
/// </summary>
internal readonly record struct ApplyOutcome(ulong Index, ulong Term, NoKvErrorCode Code, bool Succeeded, long Payload = 0, object? Result = null);
