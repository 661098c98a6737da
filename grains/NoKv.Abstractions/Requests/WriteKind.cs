namespace NoKv.Abstractions.Requests;

/// <summary>The kind of a write command. Written into Raft log entries: never renumber.</summary>
public enum WriteKind : byte
{
    Put = 1,
    Delete = 2,

    /// <summary>Writes <c>Value</c> (or deletes when it is null) only if the current value equals <c>Expected</c> (null = absent).</summary>
    CompareAndSwap = 3,

    /// <summary>
    /// Changes only the expiry of the key's live value (<c>ExpiresAtMs</c> / <c>TtlMs</c>; neither = remove it), under
    /// <c>ExpireCondition</c>; succeeds when the key was live and the condition held. Only in timed writes
    /// (docs/format-commands.md).
    /// </summary>
    Expire = 4,
}
