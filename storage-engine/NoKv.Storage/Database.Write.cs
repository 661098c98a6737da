using System.Diagnostics;
using NoKv.Storage.Db;
using NoKv.Storage.Memtable;
using NoKv.Storage.Vfs;
using NoKv.Storage.Wal;

namespace NoKv.Storage;

/// <summary>
/// The write path: group commit over the WAL, memtable insertion, memtable switching and write stalls.
/// </summary>
/// <remarks>
/// Writers append a <see cref="WriteRequest"/> to a queue. If no group leader is active, a synchronous
/// caller becomes the leader itself; an asynchronous caller wakes the dedicated writer thread to lead, so
/// <see cref="WriteAsync"/> never blocks its thread on an fsync. The leader takes every queued request (up
/// to about 1 MiB), assigns consecutive sequence numbers, appends one WAL record per batch, hands the bytes
/// to the OS in one write, inserts into the memtable, fsyncs once if any request asked for Sync (the device
/// writes the log while the leader inserts: the write is started before the inserts and waited for after
/// them), publishes the last sequence (readers see the whole group or none of it), and completes the requests.
/// Synchronous waiters sleep on one shared <see cref="WakeWord"/> (a futex on Linux), each with its own bit, so a
/// leader wakes all the waiters of a group with one call. A leader that
/// finishes with requests still queued passes leadership on: to the first waiting synchronous caller, or to
/// the writer thread. If the WAL cannot be written the database stops accepting writes (the log's state is
/// unknown), and every later write fails with the original error.
/// </remarks>
public sealed partial class Database
{
    private const int MaxGroupBytes = 1 << 20;
    private const int MaxExtraGroupsPerLeader = 4;

    // Polling of an unsynced writer before it sleeps (SpinUntilDoneOrPromoted): how long at most, and how many
    // yields that took longer than SlowYieldMicros (the core went to another thread) end it early.
    private const long SpinLimitMicros = 100;
    private const long SlowYieldMicros = 3;
    private const int MaxSlowYields = 3;

    /// <summary>Test hook: runs on the group leader after a group's records are in the log and before its memtable inserts.</summary>
    internal Action? GroupCommitHook { get; set; }

    /// <summary>Requests queued and not yet taken into a group (tests).</summary>
    internal int QueuedWrites
    {
        get
        {
            lock (_queueLock)
            {
                return _queue.Count;
            }
        }
    }

    // Zeros kept written ahead of the WAL's append position (IWritableFile.SetZeroFillAhead): a synced write then
    // overwrites space the file already has and its fdatasync journals no size change (measured 160 -> 110 µs
    // per sync on ext4). One MiB costs one larger sync per MiB of log.
    private const int WalZeroFillAheadBytes = 1 << 20;

    [ThreadStatic]
    private static WriteRequest? t_request;

    [ThreadStatic]
    private static WriteBatch? t_batch;

    private readonly Lock _queueLock = new();
    private readonly Queue<WriteRequest> _queue = new();
    // A kernel event, not a SemaphoreSlim: the writer thread mostly sleeps, and spinning before each wait
    // burnt measurable CPU in the silos (other threads on the 2 cores needed it).
    private readonly AutoResetEvent _writerSignal = new(false);
    private readonly WakeWord _wake = new();
    private readonly List<WriteRequest> _group = [];
    private bool _leaderActive;
    private bool _writesClosed;
    private int _writerThreadLeading;

    // Logs frozen by a memtable switch and not yet fsynced to their end (oldest first), and whether a log was
    // created since the directory was last fsynced. Guarded by _closedLogsLock, held only to change the list
    // (a switch must never wait for a sync); _closedLogSyncLock serializes the syncs and is held across their
    // fdatasync calls: the flush thread syncs them soon after the switch, and a synced group syncs whatever is
    // left before its own log (so a synced write never depends on an unsynced earlier log).
    private readonly Lock _closedLogsLock = new();
    private readonly Lock _closedLogSyncLock = new();
    private readonly List<LogWriter> _closedLogs = [];
    private bool _logDirectoryUnsynced;

    // Set (under _closedLogsLock) when there is closed-log or directory sync work; read without a lock by leaders.
    private volatile bool _closedLogWork;

    // Marks of closed logs synced to their end, waiting for the next group to append them to the current log.
    // Guarded by _markLock (held only to move marks, never across I/O).
    private readonly Lock _markLock = new();
    private readonly List<DurableMark> _pendingMarks = [];
    private volatile bool _marksPending;
    private long _closedLogsSynced;

    /// <summary>Closed logs fsynced to their end so far (for tests and statistics).</summary>
    internal long ClosedLogsSynced => Interlocked.Read(ref _closedLogsSynced);

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, WriteOptions? options = null)
    {
        WriteBatch batch = t_batch ??= new WriteBatch();
        batch.Clear();
        batch.Put(key, value);
        Write(batch, options);
    }

    public void Delete(ReadOnlySpan<byte> key, WriteOptions? options = null)
    {
        WriteBatch batch = t_batch ??= new WriteBatch();
        batch.Clear();
        batch.Delete(key);
        Write(batch, options);
    }

    /// <summary>Deletes every key in [start, end) with one range tombstone. start == end is a no-op.</summary>
    /// <exception cref="ArgumentException">start sorts after end.</exception>
    public void DeleteRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, WriteOptions? options = null)
    {
        WriteBatch batch = t_batch ??= new WriteBatch();
        batch.Clear();
        batch.DeleteRange(start, end);
        Write(batch, options);
    }

    /// <summary>Applies the batch atomically; with Sync, returns only once it is durable.</summary>
    public void Write(WriteBatch batch, WriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfDisposed();
        if (batch.Count == 0)
        {
            return;
        }

        // Waiters do not spin: synced writers usually outnumber cores, and spinning ones steal the CPU the
        // leader and the woken writers need (measured: spinning 100 rounds halved 32-writer synced throughput).
        WriteRequest req = t_request ??= new WriteRequest { WakeBit = WakeWord.BitForCurrentThread() };
        req.Batch = batch;
        req.Sync = options?.Sync ?? false;
        Submit(req);
    }

    /// <summary>Queues a synchronous request, leads or waits, and rethrows its error.</summary>
    private void Submit(WriteRequest req)
    {
        req.Done = false;
        req.Promoted = false;
        req.Sleeping = false;
        req.Error = null;
        if (WriteTrace.Enabled)
        {
            WriteTrace.OnEnqueue(req);
        }

        bool leader;
        bool promoted = false;
        lock (_queueLock)
        {
            ObjectDisposedException.ThrowIf(_writesClosed, this);
            ThrowIfWritesStopped();
            _queue.Enqueue(req);
            leader = !_leaderActive;
            _leaderActive = true;
        }

        if (!leader)
        {
            WaitUntilDoneOrPromoted(req);
            if (!req.Done)
            {
                Debug.Assert(req.Promoted, "woken without being done or promoted");
                leader = true;
                promoted = true;
            }
        }

        if (leader)
        {
            LeadGroups(callerRequest: req);
        }

        if (WriteTrace.Enabled && req.Exclusive is null)
        {
            WriteTrace.RecordWrite(req, leader, promoted, Stopwatch.GetTimestamp());
        }

        req.Batch = null!;
        req.Exclusive = null;
        if (req.Error is { } error)
        {
            throw error is IOException io ? new IOException(io.Message, io) : error;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the group leader between two groups: no write commits meanwhile,
    /// and writes queued before it are committed first. Used by Flush and IngestRange.
    /// </summary>
    private void RunExclusive(Action action)
    {
        var req = new WriteRequest { WakeBit = WakeWord.BitForCurrentThread(), Batch = new WriteBatch(), Exclusive = action };
        Submit(req);
    }

    /// <summary>
    /// Applies the batch atomically without blocking the calling thread on an fsync: the returned task
    /// completes when the group carrying the batch is in the log (and fsynced if Sync, by the writer thread).
    /// An unsynced batch is usually committed on the calling thread when no other write is in flight (a
    /// memtable insert and a buffered write(2)); during a write stall that thread is delayed with it.
    /// The batch must not be modified until the task completes. Cancellation is honored only before the
    /// batch is queued.
    /// </summary>
    public ValueTask WriteAsync(WriteBatch batch, WriteOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfDisposed();
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(ct);
        }

        if (batch.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        if (_options.CommitAsyncWritesOnCallingThread)
        {
            try
            {
                Write(batch, options);
                return ValueTask.CompletedTask;
            }
            catch (Exception e)
            {
                return ValueTask.FromException(e);
            }
        }

        var req = new WriteRequest
        {
            Batch = batch,
            Sync = options?.Sync ?? false,
            Completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        bool lead;
        lock (_queueLock)
        {
            if (_writesClosed)
            {
                return ValueTask.FromException(new ObjectDisposedException(nameof(Database)));
            }

            if (WritesStoppedError() is { } stopped)
            {
                return ValueTask.FromException(stopped);
            }

            _queue.Enqueue(req);
            lead = !_leaderActive;
            _leaderActive = true;
        }

        if (lead)
        {
            if (req.Sync || WriteMayWait())
            {
                _writerSignal.Set();
            }
            else
            {
                // Nothing to fsync: commit on this thread (a memtable insert and a buffered write(2)), sparing
                // two thread hand-offs. Queued synced writes are left to the writer thread.
                LeadGroups(req, inlineAsync: true);
                return req.Error is null ? ValueTask.CompletedTask : ValueTask.FromException(req.Error);
            }
        }

        return new ValueTask(req.Completion.Task);
    }

    private void ThrowIfWritesStopped()
    {
        if (WritesStoppedError() is { } e)
        {
            throw e;
        }
    }

    private Exception? WritesStoppedError()
    {
        Exception? bg = Volatile.Read(ref _backgroundError);
        return bg is null ? null : new IOException("The database stopped accepting writes after an I/O error: " + bg.Message, bg);
    }

    /// <summary>The writer thread: leads groups on behalf of asynchronous writers.</summary>
    private void WriterLoop()
    {
        while (true)
        {
            _writerSignal.WaitOne();
            bool any;
            lock (_queueLock)
            {
                any = _queue.Count > 0;
                if (!any && Volatile.Read(ref _disposed) != 0)
                {
                    return;
                }
            }

            if (any)
            {
                Volatile.Write(ref _writerThreadLeading, 1);
                LeadGroups(callerRequest: null);
                Volatile.Write(ref _writerThreadLeading, 0);
            }
        }
    }

    /// <summary>
    /// REQUIRES: this thread holds leadership. Commits groups until the caller's own request is done and
    /// leadership has been handed on (or the queue is empty).
    /// </summary>
    /// <param name="inlineAsync">
    /// The leader is a <see cref="WriteAsync"/> caller: it commits only unsynced batches (never an fsync or an
    /// exclusive action on a caller's thread) and hands leadership on as soon as its own batch is done.
    /// </param>
    private void LeadGroups(WriteRequest? callerRequest, bool inlineAsync = false)
    {
        int groupsAfterOwn = 0;
        int maxExtraGroups = inlineAsync ? 0 : MaxExtraGroupsPerLeader;
        while (true)
        {
            _group.Clear();
            bool anySync = false;
            lock (_queueLock)
            {
                long bytes = 0;
                while (_queue.Count > 0)
                {
                    WriteRequest next = _queue.Peek();
                    if (inlineAsync && (next.Sync || next.Exclusive is not null))
                    {
                        break;
                    }

                    int size = next.Batch.ApproximateSize;
                    if (_group.Count > 0 && (bytes + size > MaxGroupBytes || next.Exclusive is not null || _group[0].Exclusive is not null))
                    {
                        break;
                    }

                    _queue.Dequeue();
                    _group.Add(next);
                    bytes += size;
                    anySync |= next.Sync;
                }
            }

            if (_group.Count > 0)
            {
                long traceRunDelay = 0;
                if (WriteTrace.Enabled)
                {
                    long now = Stopwatch.GetTimestamp();
                    foreach (WriteRequest r in _group)
                    {
                        r.TraceGroupStart = now;
                    }

                    WriteTrace.Record(WriteTrace.GroupSize, _group.Count);
                    traceRunDelay = WriteTrace.ThreadRunDelayNs();
                }

                Exception? error = null;
                try
                {
                    if (_group[0].Exclusive is { } exclusive)
                    {
                        exclusive();
                    }
                    else
                    {
                        CommitGroup(_group, anySync);
                    }
                }
                catch (Exception e)
                {
                    error = e;
                }

                if (WriteTrace.Enabled)
                {
                    long now = Stopwatch.GetTimestamp();
                    long leaderRunDelay = WriteTrace.ThreadRunDelayNs() - traceRunDelay;
                    foreach (WriteRequest r in _group)
                    {
                        r.TraceGroupEnd = now;
                        r.TraceGroupLeaderRunDelay = leaderRunDelay;
                    }

                    CompleteGroup(_group, callerRequest, error);
                    WriteTrace.Record(WriteTrace.GroupWakeCall, WriteTrace.Ns(now, Stopwatch.GetTimestamp()));
                }
                else
                {
                    CompleteGroup(_group, callerRequest, error);
                }

                _group.Clear();
            }

            lock (_queueLock)
            {
                if (_queue.Count == 0)
                {
                    _leaderActive = false;
                    return;
                }

                // Keep leading for a few groups after our own is done: waking another thread to lead costs a
                // context switch per group, which would shrink groups under many synced writers.
                // An unsynced writer does not: its own group took a few microseconds, and each group it leads for
                // others adds to its own latency (the next writer is usually still spinning, so the hand-off is cheap).
                if (callerRequest is null || !callerRequest.Done || (callerRequest.Sync && ++groupsAfterOwn <= maxExtraGroups))
                {
                    continue;
                }

                // Our own write is done: hand leadership to the next synchronous writer, or to the writer thread.
                WriteRequest head = _queue.Peek();
                if (head.WakeBit != 0)
                {
                    head.Promoted = true;
                    _wake.Bump();
                    if (head.Sleeping)
                    {
                        _wake.WakeSleepers(head.WakeBit);
                    }
                }
                else
                {
                    _writerSignal.Set();
                }

                return;
            }
        }
    }

    /// <summary>
    /// Completes every request of a committed group but the caller's own (which it returns itself): asynchronous
    /// ones at once, and every sleeping synchronous writer with one <see cref="WakeWord.Wake"/>.
    /// </summary>
    private void CompleteGroup(List<WriteRequest> group, WriteRequest? callerRequest, Exception? error)
    {
        bool anySynchronous = false;
        foreach (WriteRequest r in group)
        {
            if (r == callerRequest)
            {
                r.Error = error;
                r.Done = true;
            }
            else if (r.WakeBit == 0)
            {
                r.CompleteAsync(error);
            }
            else
            {
                // Done last: once the owner sees it, it returns and may reuse the request at once.
                r.Error = error;
                r.Done = true;
                anySynchronous = true;
            }
        }

        if (!anySynchronous)
        {
            return;
        }

        // The bump is a full fence between the Done writes above and the Sleeping reads below; an owner sets
        // Sleeping, fences, then reads the epoch and its Done flag. So either it sees Done and does not sleep, or
        // this sees Sleeping and wakes it (a sleep on a stale epoch returns at once). Owners still spinning cost
        // no system call. Reading Sleeping after Done was set: an owner that already returned reads false.
        _wake.Bump();
        int mask = 0;
        foreach (WriteRequest r in group)
        {
            if (r != callerRequest && r.WakeBit != 0 && r.Sleeping)
            {
                mask |= r.WakeBit;
            }
        }

        _wake.WakeSleepers(mask);
    }

    /// <summary>Sleeps on the shared wake word until <paramref name="req"/> is done or promoted to leader.</summary>
    private void WaitUntilDoneOrPromoted(WriteRequest req)
    {
        if (!req.Sync && SpinUntilDoneOrPromoted(req))
        {
            return;
        }

        while (true)
        {
            // Sleeping, a fence, the epoch, then the flags: a leader that set the flags after this read of the
            // epoch sees Sleeping and wakes us, and a wake-up after the read makes the sleep return at once.
            req.Sleeping = true;
            Interlocked.MemoryBarrier();
            int epoch = _wake.Epoch;
            if (req.Done || req.Promoted)
            {
                req.Sleeping = false;
                return;
            }

            _wake.Sleep(epoch, req.WakeBit);
        }
    }

    /// <summary>
    /// An unsynced writer waits for a group of a few microseconds (a buffered log append and memtable inserts), less
    /// than a futex sleep and wake-up costs on a busy machine, where the woken thread waits for a core: p99 of that
    /// wake-up was 1.6 ms in YCSB A while the leader's group took 49 µs. So it first polls, yielding its core
    /// between polls, for up to <see cref="SpinLimitMicros"/>; it gives up early when its yields are slow (other
    /// threads want the core: the leader may be one of them). Synced writers never spin (their group waits for an
    /// fdatasync, and spinning writers starve the leader, docs/storage-write-path.md).
    /// </summary>
    /// <returns>True when the request was done or promoted while polling.</returns>
    private static bool SpinUntilDoneOrPromoted(WriteRequest req)
    {
        for (int i = 0; i < 32; i++)
        {
            if (req.Done || req.Promoted)
            {
                return true;
            }

            Thread.SpinWait(10);
        }

        long start = Stopwatch.GetTimestamp();
        long limit = start + (Stopwatch.Frequency * SpinLimitMicros / 1_000_000);
        long slowYield = Stopwatch.Frequency * SlowYieldMicros / 1_000_000;
        int slowYields = 0;
        long last = start;
        while (true)
        {
            Thread.Yield();
            if (req.Done || req.Promoted)
            {
                return true;
            }

            long now = Stopwatch.GetTimestamp();
            if (now >= limit || (now - last >= slowYield && ++slowYields >= MaxSlowYields))
            {
                return false;
            }

            last = now;
        }
    }

    private void CommitGroup(List<WriteRequest> group, bool sync)
    {
        ThrowIfWritesStopped();
        long userBytes = 0;
        int totalSize = 0;
        foreach (WriteRequest r in group)
        {
            totalSize += r.Batch.ApproximateSize;
        }

        long traceStart = WriteTrace.Enabled ? Stopwatch.GetTimestamp() : 0;
        MakeRoomForWrite(totalSize);
        long traceRoom = WriteTrace.Enabled ? Stopwatch.GetTimestamp() : 0;
        ulong seq = _lastSequence + 1;
        long walStart = _log.Length;
        try
        {
            if (sync && _closedLogWork)
            {
                // A synced write must not outlive an earlier write of an older log: sync those logs (and the new
                // log's directory entry) first. Normally the flush thread has done it already.
                long started = WalSyncLatency.Started();
                try
                {
                    SyncClosedLogs();
                }
                finally
                {
                    WalSyncLatency.Finished(started);
                }
            }

            if (_marksPending)
            {
                AppendPendingMarks();
            }

            foreach (WriteRequest r in group)
            {
                r.Batch.SetSequence(seq);
                seq += (ulong)r.Batch.Count;
                _log.AddRecord(r.Batch.Rep);
                userBytes += r.Batch.UserBytes;
            }

            if (sync)
            {
                _log.BeginSync();
            }
            else
            {
                _log.Flush();
            }
        }
        catch (Exception e)
        {
            SetBackgroundError(e);
            throw;
        }

        GroupCommitHook?.Invoke();

        long traceWal = WriteTrace.Enabled ? Stopwatch.GetTimestamp() : 0;

        // Insert while the device writes the log: the entries stay invisible to readers until _lastSequence is
        // published below. If the sync then fails, they are never published (the database stops accepting
        // writes), like any write whose call failed they may or may not survive a restart.
        MemTable mem = _mem;
        ulong s = _lastSequence + 1;
        foreach (WriteRequest r in group)
        {
            var reader = new WriteBatchReader(r.Batch.Rep);
            while (reader.TryNext(out ValueKind kind, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
            {
                mem.Add(s++, kind, key, value);
            }
        }

        if (sync)
        {
            long started = WalSyncLatency.Started();
            try
            {
                _log.Sync();
            }
            catch (Exception e)
            {
                SetBackgroundError(e);
                throw;
            }
            finally
            {
                WalSyncLatency.Finished(started);
            }

            _counters.AddWalSync();
        }

        Volatile.Write(ref _lastSequence, seq - 1);
        _counters.AddWrite(userBytes, _log.Length - walStart);
        if (WriteTrace.Enabled)
        {
            long end = Stopwatch.GetTimestamp();
            long room = WriteTrace.Ns(traceStart, traceRoom), wal = WriteTrace.Ns(traceRoom, traceWal), memNs = WriteTrace.Ns(traceWal, end);
            WriteTrace.Record(WriteTrace.GroupMakeRoom, room);
            WriteTrace.Record(WriteTrace.GroupWal, wal);
            WriteTrace.Record(WriteTrace.GroupMemtable, memNs);
            foreach (WriteRequest r in group)
            {
                r.TraceMakeRoom = room;
                r.TraceWal = wal;
                r.TraceMemtable = memNs;
            }
        }
    }

    /// <summary>
    /// Whether a group led now could wait for flush or compaction (<see cref="MakeRoomForWrite"/>: level 0 at the
    /// slowdown trigger, or a full memtable that cannot be frozen yet). An asynchronous writer's group is then led by the
    /// writer thread, not inline: the caller of <see cref="WriteAsync"/> asked not to be blocked, and in a silo it is a
    /// scheduler thread that every grain shares (a stall of seconds there stopped every replica of the store, and the
    /// followers called elections). Read without the mutex: a stale answer only costs a hand-off, or one inline write
    /// that meets a stall that began an instant ago.
    /// </summary>
    private bool WriteMayWait()
    {
        int l0 = _versions.Current.Files[0].Length;
        if (l0 >= _options.Level0SlowdownTrigger)
        {
            return true;
        }

        return Volatile.Read(ref _mem).ApproximateSize >= _memory.MemtableBytes
            && (Volatile.Read(ref _immutables).Length >= _options.MaxImmutableMemtables || l0 >= _options.Level0StopTrigger);
    }

    /// <summary>
    /// Admission rate of writes while level 0 is at <see cref="StorageOptions.Level0SlowdownTrigger"/>, falling
    /// linearly to a sixteenth of it one file short of the stop trigger (RocksDB's delayed_write_rate default is the
    /// same 16 MiB/s).
    /// </summary>
    internal const long DelayedWriteBytesPerSecond = 16L << 20;

    /// <summary>
    /// How long a group of <paramref name="groupBytes"/> is delayed with <paramref name="l0"/> level-0 files, at or past
    /// the slowdown trigger: at least 1 ms (so small writes are slowed too), and otherwise the group's bytes at the
    /// delayed write rate for that depth of level 0. Before, every group slept 1 ms whatever its size; a group is up to
    /// 1 MiB, so writers of 16 KiB values were barely slowed and drove level 0 to the stop trigger, where they waited
    /// for whole compactions (bulkload benchmark, silo settings: put maximum 39 s, level 0 at 37 most of the load).
    /// </summary>
    internal static TimeSpan SlowdownDelay(long groupBytes, int l0, int slowdownTrigger, int stopTrigger)
    {
        int room = Math.Max(1, stopTrigger - slowdownTrigger);
        double share = Math.Clamp((double)(stopTrigger - l0) / room, 1.0 / 16, 1.0);
        double seconds = groupBytes / (DelayedWriteBytesPerSecond * share);
        return TimeSpan.FromSeconds(Math.Max(0.001, seconds));
    }

    /// <summary>
    /// REQUIRES: group leader. Delays or blocks writers while flush or compaction is behind, and freezes the
    /// memtable into the immutable list (with a new WAL) when it is full.
    /// </summary>
    /// <param name="groupBytes">The group's batch bytes (the slowdown delays a group in proportion to them).</param>
    private void MakeRoomForWrite(long groupBytes)
    {
        bool allowDelay = true;
        while (true)
        {
            int l0 = _versions.Current.Files[0].Length;
            if (allowDelay && l0 >= _options.Level0SlowdownTrigger)
            {
                // Spread the cost of an overloaded L0 over many writes instead of stopping one for seconds.
                long t0 = Stopwatch.GetTimestamp();
                Thread.Sleep(SlowdownDelay(groupBytes, l0, _options.Level0SlowdownTrigger, _options.Level0StopTrigger));
                _counters.AddStall(Stopwatch.GetElapsedTime(t0));
                allowDelay = false;
                continue;
            }

            if (_mem.ApproximateSize < _memory.MemtableBytes)
            {
                return;
            }

            lock (_mutex)
            {
                if (_backgroundError is { } bg)
                {
                    throw new IOException("Background work failed: " + bg.Message, bg);
                }

                if (_immutables.Length >= _options.MaxImmutableMemtables || l0 >= _options.Level0StopTrigger)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Monitor.Wait(_mutex, 100);
                    _counters.AddStall(Stopwatch.GetElapsedTime(t0));
                    continue;
                }
            }

            SwitchMemtable();
        }
    }

    /// <summary>
    /// REQUIRES: group leader (or Flush holding leadership). Freezes the memtable and starts a new WAL.
    /// No fsync happens here: the old log is handed to the OS and queued in <see cref="_closedLogs"/>; the flush
    /// thread fsyncs it (and the directory, for the new log's name) right after, before it flushes the frozen
    /// memtable, and the next group then appends a mark of the old log's full length to the new log. A synced
    /// group that finds a closed log still unsynced syncs it first (<see cref="CommitGroup"/>). Before, the
    /// switch itself fsynced the old log (up to a whole memtable's worth of unsynced log) and the new one, and
    /// the writer that hit the switch waited 40-90 ms for it in the YCSB runs. Recovery's rule for damage in a
    /// log that a later log follows is the marks' (docs/format-wal.md).
    /// </summary>
    private void SwitchMemtable()
    {
        ulong number = _versions.NewFileNumber();
        LogWriter newLog;
        try
        {
            _log.Flush();
            newLog = CreateLog(number, predecessor: null);
        }
        catch (Exception e)
        {
            SetBackgroundError(e);
            throw;
        }

        lock (_closedLogsLock)
        {
            _closedLogs.Add(_log);
            _logDirectoryUnsynced = true;
            _closedLogWork = true;
        }

        _log = newLog;
        lock (_mutex)
        {
            var imms = new MemTable[_immutables.Length + 1];
            imms[0] = _mem;
            Array.Copy(_immutables, 0, imms, 1, _immutables.Length);
            _immutables = imms;
            _mem = new MemTable(number, _memory.MemtableBytes, _arenaChunks);
            InstallSuperVersion();
            Monitor.PulseAll(_mutex);
        }
    }

    /// <summary>
    /// Fsyncs the directory (if a log was created since it was last synced) and every closed log to its end,
    /// oldest first, disposing each and queueing a mark of its full length for the current log. Called by the
    /// flush thread before each flush, by a synced group that finds work left, and at close. Thread-safe;
    /// callers wait for a sync already in progress. Throws the I/O error (the caller stops the database).
    /// </summary>
    private void SyncClosedLogs()
    {
        lock (_closedLogSyncLock)
        {
            while (true)
            {
                LogWriter? log;
                bool directory;
                lock (_closedLogsLock)
                {
                    directory = _logDirectoryUnsynced;
                    _logDirectoryUnsynced = false;
                    log = _closedLogs.Count > 0 ? _closedLogs[0] : null;
                    if (log is null && !directory)
                    {
                        _closedLogWork = false;
                        return;
                    }
                }

                if (directory)
                {
                    try
                    {
                        _fs.SyncDirectory(Path);
                    }
                    catch
                    {
                        lock (_closedLogsLock)
                        {
                            _logDirectoryUnsynced = true;
                        }

                        throw;
                    }
                }

                if (log is null)
                {
                    continue;
                }

                // Only this lock's holder removes logs, so the head is still this log.
                log.Sync();
                lock (_markLock)
                {
                    _pendingMarks.Add(new DurableMark(log.Number, log.SyncedThrough));
                    _marksPending = true;
                }

                lock (_closedLogsLock)
                {
                    _closedLogs.RemoveAt(0);
                }

                log.Dispose();
                Interlocked.Increment(ref _closedLogsSynced);
            }
        }
    }

    /// <summary>REQUIRES: group leader. Appends the marks of closed logs synced since the last group to the current log.</summary>
    private void AppendPendingMarks()
    {
        lock (_markLock)
        {
            foreach (DurableMark mark in _pendingMarks)
            {
                _log.AddForeignMark(mark);
            }

            _pendingMarks.Clear();
            _marksPending = false;
        }
    }

    /// <summary>Closes closed logs without syncing them (close after a failure; nothing acknowledged depends on them).</summary>
    private void DisposeClosedLogs()
    {
        lock (_closedLogSyncLock)
        lock (_closedLogsLock)
        {
            foreach (LogWriter log in _closedLogs)
            {
                log.Dispose();
            }

            _closedLogs.Clear();
        }
    }

    /// <summary>
    /// Creates log file <paramref name="number"/> (the caller makes its name durable), starting with a mark of
    /// <paramref name="predecessor"/>: the old log's full length, which the caller has just synced.
    /// </summary>
    private LogWriter CreateLog(ulong number, DurableMark? predecessor)
    {
        IWritableFile file = _fs.CreateWritable(FileNames.Log(Path, number));
        file.SetZeroFillAhead(WalZeroFillAheadBytes);
        return new LogWriter(file, number, predecessor);
    }

    /// <summary>Refuses new writes, then waits until no write is queued or being committed (used by Dispose).</summary>
    private void DrainWriters()
    {
        lock (_queueLock)
        {
            _writesClosed = true;
        }

        while (true)
        {
            lock (_queueLock)
            {
                if (!_leaderActive && _queue.Count == 0)
                {
                    return;
                }
            }

            Thread.Sleep(1);
        }
    }
}
