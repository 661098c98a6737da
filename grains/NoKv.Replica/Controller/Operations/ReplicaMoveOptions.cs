namespace NoKv.Replica.Controller.Operations;

/// <summary>Tuning of replica moves and re-replication (<see cref="ReplicaMoveRunner"/>).</summary>
public sealed class ReplicaMoveOptions
{
    /// <summary>How far (in log entries) a learner may trail the leader's commit index and still be promoted.</summary>
    public ulong CatchUpLag { get; init; } = 64;

    /// <summary>
    /// How long a step before the promotion may make no progress because the target store does not answer (or the
    /// learner does not catch up) before the operation rolls back; after the promotion, how long the source may be
    /// unreachable before its destruction is left to orphan cleanup.
    /// </summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a requested leadership transfer may take before the operation gives up on it.</summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many steps per run, so one operation cannot hold the loop.</summary>
    public int MaxStepsPerRun { get; init; } = 16;
}
