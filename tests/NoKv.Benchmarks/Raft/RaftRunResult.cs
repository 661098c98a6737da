namespace NoKv.Benchmarks.Raft;

/// <summary>Committed-entry throughput and allocation cost of one proposer count.</summary>
public sealed record RaftRunResult(
    int Proposers,
    long Entries,
    double Seconds,
    double EntriesPerSecond,
    double AllocatedBytesPerEntry,
    int Gen0Collections,
    int Gen2Collections,
    string? Failure);
