namespace NoKv.Raft.Tests.Testing;

/// <summary>A read in progress: where it was issued, of which key, and the logical instant it started.</summary>
internal readonly record struct LedgerRead(ulong Node, string Key, long StartSequence);
