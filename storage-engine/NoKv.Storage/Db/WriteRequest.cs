namespace NoKv.Storage.Db;

/// <summary>
/// One batch waiting in the group-commit queue. A synchronous writer sleeps on the database's <see cref="WakeWord"/>
/// with its thread's <see cref="WakeBit"/> until it is done or promoted to group leader; an asynchronous writer gets
/// <see cref="Completion"/> completed by whichever thread commits its group. Synchronous requests are cached
/// per thread and reused, so a Put allocates nothing here.
/// </summary>
internal sealed class WriteRequest
{
    public WriteBatch Batch { get; set; } = null!;

    public bool Sync { get; set; }

    /// <summary>An action run alone by the leader instead of committing a batch (Flush, IngestRange).</summary>
    public Action? Exclusive { get; set; }

    /// <summary>Set by the committing leader (after <see cref="Error"/>, before the wake-up); the waiter's exit condition.</summary>
    public volatile bool Done;

    /// <summary>Set when the waiter should become the leader instead.</summary>
    public volatile bool Promoted;

    /// <summary>
    /// Set by the owner before it sleeps on the wake word (and cleared when it wakes): a leader calls the kernel to
    /// wake only owners that may be asleep, not those still spinning (see Database.WaitUntilDoneOrPromoted).
    /// </summary>
    public volatile bool Sleeping;

    public Exception? Error { get; set; }

    /// <summary>The owner thread's <see cref="WakeWord"/> bit; 0 for asynchronous requests.</summary>
    public int WakeBit { get; init; }

    // WriteTrace only (Stopwatch timestamps, and this request's group's stage durations in ns).
    public long TraceEnqueued, TraceGroupStart, TraceGroupEnd, TraceMakeRoom, TraceWal, TraceMemtable;

    // WriteTrace only (ns): the owner thread's run-queue wait and the collector's pause total when it queued the
    // request, and the run-queue wait of the thread that led its group during the group (slow-write attribution).
    public long TraceRunDelayAtEnqueue, TraceGcPauseAtEnqueue, TraceGroupLeaderRunDelay;

    /// <summary>Null for synchronous requests.</summary>
    public TaskCompletionSource? Completion { get; init; }

    /// <summary>Completes an asynchronous request.</summary>
    public void CompleteAsync(Exception? error)
    {
        Error = error;
        Done = true;
        if (error is null)
        {
            Completion!.TrySetResult();
        }
        else
        {
            Completion!.TrySetException(error);
        }
    }
}
