using NoKv.Raft.Messages;

namespace NoKv.Raft.Storage;

/// <summary>What a node recovers at start: its persisted hard state and the membership it last knew.</summary>
public readonly record struct RaftInitialState(HardState HardState, ConfState ConfState);
