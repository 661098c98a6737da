namespace NoKv.Abstractions.Requests;

/// <summary>
/// Identifies one write for exactly-once application: a client session id and a sequence number that the
/// session increases for every new write. A session has at most one write outstanding, so each shard
/// remembers only the last sequence it applied per session and that write's outcome; a retry of the same
/// (session, sequence) returns the remembered outcome instead of applying twice.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ClientSession")]
public readonly record struct ClientSession([property: Id(0)] Guid SessionId, [property: Id(1)] long Sequence);
