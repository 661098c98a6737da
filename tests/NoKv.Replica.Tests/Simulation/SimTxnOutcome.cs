namespace NoKv.Replica.Tests.Simulation;

/// <summary>What a simulated transaction client knows of a transaction's outcome.</summary>
internal enum SimTxnOutcome
{
    /// <summary>The client gave up or "crashed" before it learned the outcome; decided at the primary at the end.</summary>
    Unknown,
    Committed,
    Aborted,
}
