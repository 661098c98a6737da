using NoKv.Abstractions.Errors;

namespace NoKv.Replica.StateMachine;

/// <summary>What applying one committed entry did, for answering the client that proposed it.</summary>
internal readonly record struct ApplyOutcome(ulong Index, ulong Term, NoKvErrorCode Code, bool Succeeded);
