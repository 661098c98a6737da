using NoKv.Raft.Tracker;

namespace NoKv.Raft;

/// <summary>A snapshot of a leader's view of one member, for status pages and tests.</summary>
public readonly record struct ProgressStatus(ulong Match, ulong Next, ProgressState State, bool IsLearner, bool RecentActive, int Inflight, ulong PendingSnapshot);
