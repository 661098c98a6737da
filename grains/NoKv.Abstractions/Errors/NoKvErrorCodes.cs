namespace NoKv.Abstractions.Errors;

/// <summary>Classification helpers for <see cref="NoKvErrorCode"/>.</summary>
public static class NoKvErrorCodes
{
    /// <summary>True for codes a client may retry with fresh routing (same session sequence for writes).</summary>
    public static bool IsRetryable(NoKvErrorCode code) => code is NoKvErrorCode.NotLeader or NoKvErrorCode.WrongShard
        or NoKvErrorCode.StoreUnavailable or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped
        or NoKvErrorCode.StaleReadUnavailable;
}
