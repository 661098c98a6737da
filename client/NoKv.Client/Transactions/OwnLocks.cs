namespace NoKv.Client.Transactions;

/// <summary>
/// The locks one two-phase commit of this client holds, from before its first prewrite until they are all gone or
/// decided: committed and every secondary committed, or rolled back, or the commit's outcome unknown. Another
/// request of the same client that meets one of these locks waits for <see cref="Settled"/> instead of asking the
/// primary's shard and sleeping between asks.
/// </summary>
internal sealed class OwnLocks
{
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _committed;

    public OwnLocks(long startTs) => StartTs = startTs;

    public long StartTs { get; }

    /// <summary>True once the primary is committed: what remains (secondary commits) waits for nobody.</summary>
    public bool IsCommitted => _committed;

    public Task Settled => _settled.Task;

    public void MarkCommitted() => _committed = true;

    public void Settle() => _settled.TrySetResult();
}
