namespace NoKv.Chaos.Workload;

/// <summary>What the client learned about an operation.</summary>
public enum OpOutcome
{
    /// <summary>Returned a result: it took effect exactly once, between its invocation and its return.</summary>
    Ok,

    /// <summary>
    /// Failed without the client learning whether it took effect (timeout, connection lost): a write may apply at any
    /// time after its invocation or never; a read has no effect and is left out of the check.
    /// </summary>
    Unknown,
}
