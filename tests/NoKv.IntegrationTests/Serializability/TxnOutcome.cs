namespace NoKv.IntegrationTests.Serializability;

/// <summary>What the client learned about a transaction's commit.</summary>
public enum TxnOutcome
{
    /// <summary>The commit was acknowledged.</summary>
    Committed,

    /// <summary>The transaction certainly did not commit (a conflict, a rollback, a failure before commit).</summary>
    Aborted,

    /// <summary>The commit was sent and no answer says how it ended: either all of it happened or none.</summary>
    Unknown,
}
