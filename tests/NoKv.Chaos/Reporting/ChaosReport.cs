namespace NoKv.Chaos.Reporting;

/// <summary>Everything a harness invocation measured; serialized as is by --json.</summary>
public sealed class ChaosReport
{
    public required string Options { get; init; }

    public required string Machine { get; init; }

    public List<RunReport> Runs { get; } = new();

    public List<FailoverTrial> Failover { get; } = new();
}
