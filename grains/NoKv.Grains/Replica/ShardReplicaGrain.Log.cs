using Microsoft.Extensions.Logging;

namespace NoKv.Grains.Replica;

public sealed partial class ShardReplicaGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} deactivated: {Reason}")]
    private partial void LogDeactivated(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} got a batch for shard {Shard} store {Store}")]
    private partial void LogMisrouted(string replica, long shard, int store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} dropped a malformed batch from store {From}: {Reason}")]
    private partial void LogBadBatch(string replica, int from, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica}: send to peer {To} failed: {Reason}")]
    private partial void LogSendFailed(string replica, ulong to, string reason);
}
