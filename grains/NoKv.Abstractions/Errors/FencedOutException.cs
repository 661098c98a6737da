namespace NoKv.Abstractions.Errors;

/// <summary>
/// A fenced write was refused and changed nothing: the shard has already accepted a write fenced with a newer
/// token for the same resource, so the writer's lock was taken over (docs/locks.md). Final: retrying cannot help;
/// the writer must acquire the lock again.
/// </summary>
[GenerateSerializer, Alias("nokv.FencedOutException")]
public sealed class FencedOutException : NoKvException
{
    public FencedOutException(string detail)
        : base(NoKvErrorCode.FencedOut, $"Fenced write refused: {detail}")
    {
    }
}
