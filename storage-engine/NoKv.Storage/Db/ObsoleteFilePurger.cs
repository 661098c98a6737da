namespace NoKv.Storage.Db;

/// <summary>
/// Deletes table files that no version references any more, on its own thread, as soon as they become
/// obsolete, and retries deletions that failed.
/// </summary>
/// <remarks>
/// Why a thread of its own: a file becomes obsolete when the last version holding it is released, and that
/// can happen on any thread: a point reader returning a stale super version, an iterator's Dispose, the
/// compaction or flush thread installing a new version. Readers must not pay for an unlink (which can hold
/// the device for milliseconds on file systems with online discard) or an unmap, and deleting only when the
/// next compaction ends left dead tables on disk for as long as the workload did not compact (read-only
/// phases, the end of a run). <see cref="Enqueue"/> costs a lock and a pulse; the thread evicts the table
/// from the table cache (closing it and its mapping once nobody uses it) and deletes the file.
/// <para>
/// Crash safety is the caller's: only numbers of files that the durable manifest no longer names may be
/// enqueued (the version set installs a version only after its edit is synced, so a file no installed version
/// references is not in the manifest's state). Files left behind by a crash are swept at the next open.
/// </para>
/// A deletion that fails (an I/O error; on Windows, a file still mapped) is kept and retried with backoff,
/// from <see cref="FirstRetryDelay"/> up to <see cref="MaxRetryDelay"/>, and at every later pass. Thread-safe.
/// </remarks>
internal sealed class ObsoleteFilePurger : IDisposable
{
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly Func<ulong, bool> _delete;
    private readonly int _nice;

    // Guards _queue, _failed, _inPass and _stopping; never held while deleting. A leaf lock: Enqueue runs under the
    // database mutex (a super version installed there may drop the last reference to a version).
    private readonly object _lock = new();

    // Serializes passes, so that PurgeNow returns only after a pass the thread had already started is over too.
    private readonly Lock _passLock = new();
    private readonly Queue<ulong> _queue = new();
    private readonly List<ulong> _failed = [];
    private Thread? _thread;
    private bool _stopping;

    // Files taken by the pass in progress (still on disk until it deletes them).
    private int _inPass;

    /// <param name="delete">Evicts and deletes one table; returns false when the deletion failed and is to be retried.</param>
    /// <param name="nice">Background thread niceness (see <see cref="BackgroundThreadPriority"/>).</param>
    public ObsoleteFilePurger(Func<ulong, bool> delete, int nice)
    {
        _delete = delete;
        _nice = nice;
    }

    /// <summary>Obsolete files not yet deleted: queued, being deleted, or waiting for a retry.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count + _failed.Count + _inPass;
            }
        }
    }

    /// <summary>Starts the deleting thread; files enqueued before are deleted at once.</summary>
    public void Start()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "nokv-purge" };
        _thread.Start();
    }

    /// <summary>Queues an obsolete table for deletion. Cheap; callable from any thread, under any lock.</summary>
    public void Enqueue(ulong number)
    {
        lock (_lock)
        {
            _queue.Enqueue(number);
            Monitor.Pulse(_lock);
        }
    }

    /// <summary>
    /// Deletes every queued file and retries every failed one on the calling thread, after any pass in
    /// progress. Files that still fail stay queued for retries.
    /// </summary>
    public void PurgeNow()
    {
        lock (_passLock)
        {
            RunPass();
        }
    }

    /// <summary>Stops the thread (idempotent). Files still queued stay queued; <see cref="PurgeNow"/> still works.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.Pulse(_lock);
        }

        _thread?.Join();
    }

    private void Loop()
    {
        BackgroundThreadPriority.LowerCurrentThread(_nice);
        TimeSpan retry = FirstRetryDelay;
        while (true)
        {
            lock (_lock)
            {
                while (!_stopping && _queue.Count == 0)
                {
                    if (_failed.Count == 0)
                    {
                        retry = FirstRetryDelay;
                        Monitor.Wait(_lock);
                    }
                    else if (!Monitor.Wait(_lock, retry))
                    {
                        break;
                    }
                }

                if (_stopping)
                {
                    return;
                }
            }

            bool clean;
            lock (_passLock)
            {
                clean = RunPass();
            }

            retry = clean ? FirstRetryDelay : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    /// <summary>REQUIRES: _passLock held. One attempt at every queued and failed file; true if all went.</summary>
    private bool RunPass()
    {
        List<ulong> batch;
        lock (_lock)
        {
            batch = new List<ulong>(_queue.Count + _failed.Count);
            batch.AddRange(_failed);
            _failed.Clear();
            while (_queue.TryDequeue(out ulong number))
            {
                batch.Add(number);
            }

            _inPass = batch.Count;
        }

        List<ulong>? failed = null;
        foreach (ulong number in batch)
        {
            bool deleted;
            try
            {
                deleted = _delete(number);
            }
            catch (Exception)
            {
                // Not an I/O error the delegate expected (it handles those); keep the file and try again later
                // rather than end the process from a background thread.
                deleted = false;
            }

            if (!deleted)
            {
                (failed ??= []).Add(number);
            }
        }

        lock (_lock)
        {
            _inPass = 0;
            if (failed is not null)
            {
                _failed.AddRange(failed);
            }
        }

        return failed is null;
    }
}
