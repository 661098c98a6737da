using Microsoft.Extensions.Logging;

namespace NoKv.Grains.Replica;

public sealed partial class ShardReplicaGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} activated: applied {Applied}, last index {LastIndex}, term {Term}")]
    private partial void LogActivated(string replica, ulong applied, ulong lastIndex, ulong term);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} deactivated: {Reason}")]
    private partial void LogDeactivated(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}: state machine at {Applied} is behind the log's compaction point {Truncated}; resetting it to catch up from the leader")]
    private partial void LogStateMachineReset(string replica, ulong applied, ulong truncated);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} failed; deactivating so it restarts from its persisted state")]
    private partial void LogFatal(string replica, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} ignored message {Message}: {Reason}")]
    private partial void LogStepRejected(string replica, string message, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} got a batch for shard {Shard} store {Store}")]
    private partial void LogMisrouted(string replica, long shard, int store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} dropped a malformed batch from store {From}")]
    private partial void LogBadBatch(string replica, int from, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica}: send to store {To} failed: {Reason}")]
    private partial void LogSendFailed(string replica, ulong to, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} installed a snapshot at index {Index}")]
    private partial void LogSnapshotInstalled(string replica, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} created a snapshot at index {Index} ({Bytes} bytes)")]
    private partial void LogSnapshotCreated(string replica, ulong index, int bytes);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} compacted its log through index {Index}")]
    private partial void LogCompacted(string replica, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} hands leadership to its preferred store {Store}: {Result}")]
    private partial void LogLeaderTransfer(string replica, int store, string result);
}
