namespace NoKv.IntegrationTests.Serializability;

/// <summary>What <see cref="ListAppendChecker"/> found: every anomaly, and how much the graph held (so a test can tell a
/// clean history from one too thin to prove anything).</summary>
public sealed record CheckResult(IReadOnlyList<Anomaly> Anomalies, int Transactions, int WriteWriteEdges, int WriteReadEdges, int ReadWriteEdges)
{
    public bool IsValid => Anomalies.Count == 0;

    public override string ToString() =>
        $"{Transactions} transactions, edges ww {WriteWriteEdges} wr {WriteReadEdges} rw {ReadWriteEdges}, "
        + (IsValid ? "no anomaly" : $"{Anomalies.Count} anomalies:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", Anomalies));
}
