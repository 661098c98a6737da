using Microsoft.Extensions.Logging;

namespace NoKv.Grains.Replica;

public sealed partial class ShardReplicaGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} deactivated: {Reason}")]
    private partial void LogDeactivated(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} got a batch for shard {Shard} store {Store}")]
    private partial void LogMisrouted(string replica, long shard, int store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} refused a Raft batch from store {From}: {Reason} ({Suppressed} more such batches from that store since the last warning)")]
    private partial void LogBadBatch(string replica, int from, string reason, long suppressed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica}: send to peer {To} failed: {Reason}")]
    private partial void LogSendFailed(string replica, ulong to, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica}: this store holds no replica of the shard")]
    private partial void LogNoReplica(string replica);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: opened under an activation made before the store held it")]
    private partial void LogReopened(string replica);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}: opening it for a Raft message failed; the next message tries again")]
    private partial void LogReopenFailed(string replica, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: created empty for new peer {Peer} (new: {Created})")]
    private partial void LogCreated(string replica, ulong peer, bool created);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: destroyed orphan peer {Peer}, which the shard map no longer names at membership version {MapConfVersion}")]
    private partial void LogOrphanDestroyed(string replica, ulong peer, long mapConfVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: destroyed orphan peer {Peer} of a merged-away shard; every map shard over its range has an epoch of at least {MapEpoch}")]
    private partial void LogMergedAwayOrphanDestroyed(string replica, ulong peer, long mapEpoch);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: destroyed removed peer {Peer} (had rows: {Destroyed})")]
    private partial void LogDestroyed(string replica, ulong peer, bool destroyed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} created by a split did not start: {Reason}")]
    private partial void LogSplitStartFailed(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}, merged into its neighbour, did not close: {Reason}")]
    private partial void LogMergedCloseFailed(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}: a tick or delivery failed")]
    private partial void LogPumpFailed(string replica, Exception e);
}
