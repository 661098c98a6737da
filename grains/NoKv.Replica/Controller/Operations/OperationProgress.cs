namespace NoKv.Replica.Controller.Operations;

/// <summary>What one run of an operation achieved.</summary>
/// <param name="Finished">The operation completed or rolled back, and its row is gone.</param>
/// <param name="StepsRecorded">Steps recorded in the operation row during this run.</param>
/// <param name="Waiting">Why it stopped, when not finished (waiting for a replica, a leader, a retry).</param>
/// <param name="RollingBack">Set when this run turned the operation to its rollback: what rolls back and why.</param>
public sealed record OperationProgress(bool Finished, int StepsRecorded, string? Waiting, string? RollingBack = null);
