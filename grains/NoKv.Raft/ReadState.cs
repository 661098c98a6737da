namespace NoKv.Raft;

/// <summary>
/// A read that is now safe to serve: once the host's applied index reaches <see cref="Index"/>, a read
/// of the state machine is linearizable with respect to the request identified by <see cref="RequestCtx"/>.
/// </summary>
public readonly record struct ReadState(ulong Index, ReadOnlyMemory<byte> RequestCtx);
