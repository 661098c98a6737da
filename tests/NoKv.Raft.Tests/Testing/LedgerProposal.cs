namespace NoKv.Raft.Tests.Testing;

/// <summary>A proposal a node accepted and has not yet answered: the term it was accepted in and the write.</summary>
internal readonly record struct LedgerProposal(ulong Term, KvCommand Command);
