namespace NoKv.IntegrationTests.Serializability;

/// <summary>One transaction of a list-append history: its micro-operations in program order and its outcome.</summary>
public sealed record ListTxn(int Id, IReadOnlyList<ListOp> Ops, TxnOutcome Outcome)
{
    public override string ToString() => $"T{Id} ({Outcome}): {string.Join("; ", Ops)}";
}
