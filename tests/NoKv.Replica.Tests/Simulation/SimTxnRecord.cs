namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// One transaction as a simulated transaction client ran it: what it read at its start timestamp, what it meant to
/// write, how it committed and what it learned of the outcome. Unknown outcomes are decided after the quiet period
/// through the primary's status (<see cref="SimBank"/>).
/// </summary>
internal sealed class SimTxnRecord
{
    public required long StartTs { get; init; }

    public required string Path { get; init; }

    public required Dictionary<string, long> Reads { get; init; }

    public required Dictionary<string, long> Writes { get; init; }

    public required string Primary { get; init; }

    public SimTxnOutcome Outcome { get; set; } = SimTxnOutcome.Unknown;

    public long CommitTs { get; set; }

    public override string ToString() =>
        $"txn {StartTs} ({Path}, primary {Primary}, {Outcome}{(CommitTs > 0 ? $" at {CommitTs}" : "")}): read {string.Join(", ", Reads.Select(r => $"{r.Key}={r.Value}"))}; wrote {string.Join(", ", Writes.Select(w => $"{w.Key}={w.Value}"))}";
}
