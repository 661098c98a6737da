namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// A safety or liveness violation found by the simulation. The message carries the scenario, the seed
/// and the tail of the trace, so a failing CI log alone is enough to replay the run.
/// </summary>
public sealed class SimulationFailureException : Exception
{
    public SimulationFailureException(string message)
        : base(message)
    {
    }

    public SimulationFailureException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
