namespace NoKv.Raft.Tests.Testing;

/// <summary>An invariant of Raft (or of the host contract) did not hold at some step of a run.</summary>
public sealed class SafetyViolationException : Exception
{
    public SafetyViolationException(string invariant, string detail)
        : base($"{invariant} violated: {detail}")
    {
        Invariant = invariant;
    }

    /// <summary>Short name of the broken property, e.g. "election safety".</summary>
    public string Invariant { get; }
}
