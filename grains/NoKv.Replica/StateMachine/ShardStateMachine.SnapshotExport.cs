using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Raft.Snapshots;
using NoKv.Raft.Storage;
using NoKv.Replica.Core;
using NoKv.Replica.Snapshots;

namespace NoKv.Replica.StateMachine;

internal sealed partial class ShardStateMachine
{
    private Task<SnapshotPayload>? _export;
    private ExportPoint? _exportPoint;
    private long _exportFinishedMs;

    /// <summary>
    /// Export snapshots inside Raft's request, on the replica's thread, instead of on the thread pool: set by the core
    /// from <see cref="Core.IReplicaHost.ExportSnapshotsInline"/>.
    /// </summary>
    public bool ExportSnapshotsInline { get; init; }

    /// <summary>
    /// Where exports for followers are written (a file per export, read a chunk at a time as Raft sends it); null: in
    /// memory, one array of the shard's size (the simulator, tests).
    /// </summary>
    public SnapshotStaging? Staging { get; init; }

    /// <summary>
    /// The applied index of an export under way, or finished and not yet taken by Raft; null when none. The log must
    /// keep every entry after it, or the snapshot would be useless when it is ready.
    /// </summary>
    public ulong? PendingExportIndex => _exportPoint?.Index;

    /// <summary>An export was started and has finished (the next request from Raft takes it).</summary>
    public bool ExportFinished => _export is { IsCompleted: true };

    /// <summary>How long the last export took (ms), for the log line that reports it.</summary>
    public long LastExportMs { get; private set; }

    /// <summary>Why the last background export failed (it is started again at Raft's next request); null when none has.</summary>
    public Exception? LastExportFailure { get; private set; }

    /// <summary>
    /// Drops a finished export that Raft has not taken within <paramref name="keepMs"/> (the follower caught up otherwise,
    /// was removed, or this replica stopped leading): it holds a staging file (or an array) of the shard's size.
    /// </summary>
    public void DropUntakenExport(long keepMs)
    {
        if (_export is { IsCompleted: true } && Environment.TickCount64 - _exportFinishedMs > keepMs)
        {
            DiscardExport();
        }
    }

    /// <summary>
    /// Drops the pending export, finished or not (the replica is closing): its payload is released now, or when the
    /// export finishes.
    /// </summary>
    public void DiscardExport()
    {
        var export = _export;
        _export = null;
        _exportPoint = null;
        if (export is null)
        {
            return;
        }

        if (export.IsCompleted)
        {
            if (export.IsCompletedSuccessfully)
            {
                export.Result.Dispose();
            }
        }
        else
        {
            _ = export.ContinueWith(
                static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The Raft storage's snapshot: the state machine at its applied index (never behind the log's compaction
    /// point), with the membership of that index. Each call hands out a payload of its own, which Raft releases when
    /// it no longer streams it.
    /// </summary>
    /// <remarks>
    /// Exporting reads the whole shard, and Raft asks for it inside <c>Step</c>, on the replica's thread (an Orleans
    /// scheduler thread in a silo): a 256 MiB shard held that thread, and every replica queued behind it, for seconds.
    /// So the first request takes an engine snapshot and the replica's state at the applied index, starts the export
    /// on the thread pool and answers "temporarily unavailable"; Raft asks again at the follower's next heartbeat
    /// answer and gets the finished export, at the index it was taken at. Log compaction does not pass that index while
    /// the export is pending (<see cref="PendingExportIndex"/>), so the log still holds every entry after it. A host that
    /// must replay exactly (<see cref="ExportSnapshotsInline"/>, the simulator) exports inline as before.
    /// With <see cref="Staging"/> the export goes to a file, so neither the export nor the stream holds the shard in
    /// memory: Raft reads each chunk from the file when it sends it.
    /// </remarks>
    public Snapshot CreateSnapshotForRaft()
    {
        if (ExportSnapshotsInline)
        {
            long started = Environment.TickCount64;
            var point = CaptureExportPoint();
            SnapshotPayload payload;
            using (var engineSnapshot = _db.GetSnapshot())
            {
                payload = ExportPayload(point, engineSnapshot);
            }

            LastExportMs = Environment.TickCount64 - started;
            return RaftSnapshot(point, payload);
        }

        if (_export is null)
        {
            var point = CaptureExportPoint();
            var snapshot = _db.GetSnapshot();
            _exportPoint = point;
            _export = Task.Run(() =>
            {
                long started = Environment.TickCount64;
                using (snapshot)
                {
                    var payload = ExportPayload(point, snapshot);
                    _exportFinishedMs = Environment.TickCount64;
                    LastExportMs = _exportFinishedMs - started;
                    return payload;
                }
            });

            // Always "ask again" on the request that started it, however fast it runs: one rule, whatever the timing.
            throw new SnapshotTemporarilyUnavailableException();
        }

        if (!_export.IsCompleted)
        {
            throw new SnapshotTemporarilyUnavailableException();
        }

        var export = _export;
        var taken = _exportPoint!;
        _export = null;
        _exportPoint = null;
        if (!export.IsCompletedSuccessfully)
        {
            // The next request starts over (the engine failed under it, or is closing with the replica).
            LastExportFailure = export.Exception?.GetBaseException();
            throw new SnapshotTemporarilyUnavailableException();
        }

        return RaftSnapshot(taken, export.Result);
    }

    /// <summary>An in-memory export travels as the snapshot's bytes (as it always did); a staged one as its payload.</summary>
    private static Snapshot RaftSnapshot(ExportPoint point, SnapshotPayload payload)
    {
        var metadata = new SnapshotMetadata(point.Index, point.Term, ConfStates.Of(point.Shard));
        return payload is MemorySnapshotPayload memory ? new Snapshot(metadata, memory.Data) : new Snapshot(metadata, payload);
    }

    /// <summary>Exports <paramref name="point"/> into a staging file (or memory without <see cref="Staging"/>); any thread.</summary>
    private SnapshotPayload ExportPayload(ExportPoint point, NoKv.Storage.Snapshot snapshot)
    {
        if (Staging is null)
        {
            using var memory = new SegmentedExportStream();
            Export(point, snapshot, memory);
            return new MemorySnapshotPayload(memory.ToArray());
        }

        string path = Staging.NewPath($"{point.Shard.Id}-{PeerId}", "export", point.Index, point.Term);
        try
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, bufferSize: 256 << 10))
            {
                Export(point, snapshot, file);
            }

            return new FileSnapshotPayload(path);
        }
        catch
        {
            SnapshotStaging.DeleteQuietly(path);
            throw;
        }
    }

    /// <summary>The replica's state an export is taken at (index, term, descriptor and the key ranges derived from it).</summary>
    private sealed record ExportPoint(ulong Index, ulong Term, ShardDescriptor Shard, byte[] DataStart, byte[] DataEnd, bool HoldsLocks);
}
