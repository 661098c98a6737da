using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>A point-in-time description of a node (allocates; for diagnostics and tests, not hot paths).</summary>
public sealed record RaftStatus(
    ulong Id,
    HardState HardState,
    SoftState SoftState,
    ulong Applied,
    ulong FirstIndex,
    ulong LastIndex,
    ulong LeadTransferee,
    ConfState ConfState,
    IReadOnlyDictionary<ulong, ProgressStatus> Progress);
