namespace NoKv.Abstractions.Status;

/// <summary>What a replica administration call (create, destroy) did.</summary>
public enum ReplicaAdminOutcome : byte
{
    /// <summary>Done now.</summary>
    Done = 1,

    /// <summary>Already done before (the calls are idempotent): nothing changed.</summary>
    AlreadyDone = 2,

    /// <summary>Refused, nothing changed; <see cref="ReplicaAdminResult.Detail"/> says why.</summary>
    Refused = 3,
}
