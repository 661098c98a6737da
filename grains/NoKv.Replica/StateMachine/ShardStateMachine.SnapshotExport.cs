using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.StateMachine;

internal sealed partial class ShardStateMachine
{
    private Task<byte[]>? _export;
    private ExportPoint? _exportPoint;
    private long _exportFinishedMs;

    /// <summary>
    /// Export snapshots inside Raft's request, on the replica's thread, instead of on the thread pool: set by the core
    /// from <see cref="Core.IReplicaHost.ExportSnapshotsInline"/>.
    /// </summary>
    public bool ExportSnapshotsInline { get; init; }

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
    /// was removed, or this replica stopped leading): it holds an array of the shard's size.
    /// </summary>
    public void DropUntakenExport(long keepMs)
    {
        if (_export is { IsCompleted: true } && Environment.TickCount64 - _exportFinishedMs > keepMs)
        {
            _export = null;
            _exportPoint = null;
        }
    }

    /// <summary>The replica's state an export is taken at (index, term, descriptor and the key ranges derived from it).</summary>
    private sealed record ExportPoint(ulong Index, ulong Term, ShardDescriptor Shard, byte[] DataStart, byte[] DataEnd, bool HoldsLocks);
}
