namespace NoKv.Storage.Db;

/// <summary>
/// One batch waiting in the group-commit queue. A synchronous writer waits on <see cref="Signal"/> (it is set
/// when the request is done, or when the writer is promoted to group leader); an asynchronous writer gets
/// <see cref="Completion"/> completed by whichever thread commits its group. Synchronous requests are cached
/// per thread and reused, so a Put allocates nothing here.
/// </summary>
internal sealed class WriteRequest
{
    public WriteBatch Batch { get; set; } = null!;

    public bool Sync { get; set; }

    /// <summary>An action run alone by the leader instead of committing a batch (Flush, IngestRange).</summary>
    public Action? Exclusive { get; set; }

    /// <summary>Set by the committing leader; read by the waiter after <see cref="Signal"/>.</summary>
    public volatile bool Done;

    /// <summary>Set when the waiter should become the leader instead.</summary>
    public volatile bool Promoted;

    public Exception? Error { get; set; }

    /// <summary>Null for asynchronous requests.</summary>
    public WriteSignal? Signal { get; init; }

    /// <summary>Null for synchronous requests.</summary>
    public TaskCompletionSource? Completion { get; init; }

    public void Complete(Exception? error)
    {
        Error = error;
        Done = true;
        if (Completion is { } tcs)
        {
            if (error is null)
            {
                tcs.TrySetResult();
            }
            else
            {
                tcs.TrySetException(error);
            }
        }
        else
        {
            Signal!.Set();
        }
    }
}
